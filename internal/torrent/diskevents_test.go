package torrent

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gobit/gobit/internal/storage"
	"github.com/gobit/gobit/internal/wire"
)

// pieceBufOf returns a complete pieceBuf holding data.
func pieceBufOf(data []byte) *pieceBuf {
	pb := newPieceBuf(len(data))
	for b := 0; b < len(data); b += wire.BlockSize {
		pb.add(b, own(data[b:min(b+wire.BlockSize, len(data))]))
	}
	return pb
}

// The disk jobs are tested on their own: each gets copies of what it needs
// and reports a typed result, so no torrent loop is needed.
func TestVerifyJob(t *testing.T) {
	const pieceLen = 65536
	_, data, mi, _ := cacheFixture(t, 3*pieceLen)
	piece1 := data[pieceLen : 2*pieceLen]
	corrupt := own(piece1)
	corrupt[100] ^= 1
	cases := []struct {
		name      string
		data      []byte
		closed    bool // the storage was closed before the job ran
		want      pieceVerified
		onDisk    bool
		wantError error
	}{
		{name: "good piece is written", data: piece1, want: pieceVerified{index: 1, ok: true}, onDisk: true},
		{name: "corrupt piece is not written", data: corrupt, want: pieceVerified{index: 1}},
		{name: "good piece on a closed storage reports the write error", data: piece1, closed: true, wantError: storage.ErrClosed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			st, err := storage.Open(dir, storage.LayoutFromInfo(&mi.Info), storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if c.closed {
				st.Close()
			}
			var writeMu sync.Mutex
			res := verifyJob(st, &writeMu, 1, pieceBufOf(c.data), mi.Info.PieceHash(1))()
			got, ok := res.(pieceVerified)
			if !ok {
				t.Fatalf("result %T, want pieceVerified", res)
			}
			if c.wantError != nil {
				if !got.ok || !errors.Is(got.err, c.wantError) {
					t.Fatalf("got %+v, want ok with error %v", got, c.wantError)
				}
				return
			}
			if c.onDisk && got.wrote <= 0 {
				t.Errorf("write time %v for a written piece", got.wrote)
			}
			got.wrote = 0 // measured: only its presence is checked
			if got.store != st {
				t.Errorf("result names storage %p, want the job's %p", got.store, st)
			}
			got.store = nil
			if got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			disk, _ := os.ReadFile(filepath.Join(dir, "f"))
			written := len(disk) >= 2*pieceLen && bytes.Equal(disk[pieceLen:2*pieceLen], piece1)
			if written != c.onDisk {
				t.Fatalf("piece on disk: %v, want %v", written, c.onDisk)
			}
		})
	}
}

func TestCheckAndSyncJobs(t *testing.T) {
	const pieceLen = 65536
	dir, data, mi, st := cacheFixture(t, 3*pieceLen)
	// Damage piece 2 on disk: the check must find pieces 0 and 1 only.
	bad := own(data)
	bad[2*pieceLen+5] ^= 1
	if err := os.WriteFile(filepath.Join(dir, "f"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	res := checkJob(st, nil, nil)()
	got, ok := res.(dataChecked)
	if !ok || got.err != nil {
		t.Fatalf("check: got %#v", res)
	}
	if !got.have.Has(0) || !got.have.Has(1) || got.have.Has(2) || got.have.Len() != mi.Info.NumPieces() {
		t.Fatalf("check found pieces %v, want 0 and 1 of 3", got.have.Bytes())
	}

	if res := syncJob(st)(); res != nil {
		t.Fatalf("sync of an open storage reported %#v, want nothing", res)
	}
	// A sync that fails reports the error. Make a file dirty, then close
	// the storage under it.
	if err := st.WritePieceBlocks(0, [][]byte{data[:pieceLen]}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	res = syncJob(st)()
	if s, ok := res.(dataSynced); !ok || s.err == nil {
		t.Fatalf("sync of a closed storage reported %#v, want dataSynced with an error", res)
	}
}

func TestLoadAndReadJobs(t *testing.T) {
	const pieceLen = 65536
	_, data, mi, st := cacheFixture(t, 2*pieceLen)
	cache := NewReadCache(4 * pieceLen)
	res := loadJob(cache, st, mi.InfoHash, 1)()
	if l, ok := res.(pieceLoaded); !ok || l.index != 1 || l.err != nil {
		t.Fatalf("load: got %#v", res)
	}
	if buf, rel := cache.Cached(mi.InfoHash, 1, 0, 100); buf == nil || !bytes.Equal(buf, data[pieceLen:pieceLen+100]) {
		t.Fatal("loaded piece not in the cache")
	} else {
		rel()
	}

	p := &peerState{id: 7}
	k := reqKey{index: 0, begin: wire.BlockSize, length: wire.BlockSize}
	res = readJob(cache, st, mi.InfoHash, p, k)()
	r, ok := res.(blockRead)
	if !ok || r.err != nil || r.p != p || r.k != k || !bytes.Equal(r.buf, data[wire.BlockSize:2*wire.BlockSize]) {
		t.Fatalf("read: got %#v", res)
	}
	r.release()
}
