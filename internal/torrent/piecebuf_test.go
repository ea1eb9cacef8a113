package torrent

import (
	"crypto/sha1"
	"math/rand/v2"
	"testing"

	"github.com/gobit/gobit/internal/wire"
)

func TestPieceBufHashesAsBlocksArrive(t *testing.T) {
	const bs = wire.BlockSize
	for _, size := range []int{bs, 3*bs + 100, 64 * bs, 70 * bs} { // 70 blocks: two bitmap words
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 7)
		}
		want := sha1.Sum(data)
		n := (size + bs - 1) / bs
		orders := map[string][]int{"in order": make([]int, n), "reversed": make([]int, n), "shuffled": rand.Perm(n)}
		for i := range n {
			orders["in order"][i] = i
			orders["reversed"][i] = n - 1 - i
		}
		for name, order := range orders {
			pb := newPieceBuf(size)
			for j, k := range order {
				end := min((k+1)*bs, size)
				pb.add(k*bs, own(data[k*bs:end]))
				if name == "in order" && pb.hashed != end {
					t.Fatalf("%d bytes, %s: after block %d the hashed prefix is %d, want %d", size, name, j, pb.hashed, end)
				}
				if name == "reversed" && j < n-1 && pb.hashed != 0 {
					t.Fatalf("%d bytes, %s: hashed %d bytes before block 0 arrived", size, name, pb.hashed)
				}
			}
			if pb.hashed != size {
				t.Fatalf("%d bytes, %s: the whole piece arrived but only %d bytes are hashed", size, name, pb.hashed)
			}
			if got := pb.sum(); got != want {
				t.Fatalf("%d bytes, %s: SHA-1 differs", size, name)
			}
		}
	}
}

func TestPieceBufGapStopsHashing(t *testing.T) {
	data := make([]byte, 4*wire.BlockSize)
	data[5] = 1
	pb := newPieceBuf(len(data))
	pb.add(wire.BlockSize, own(data[wire.BlockSize:2*wire.BlockSize])) // a gap at block 0
	if pb.hashed != 0 {
		t.Fatalf("hashed %d bytes past a gap", pb.hashed)
	}
	// An incomplete piece never hashes like the full data.
	if pb.sum() == sha1.Sum(data) {
		t.Fatal("a piece with a missing block hashed like the full data")
	}
}

func TestPieceBufForget(t *testing.T) {
	const bs = wire.BlockSize
	data := make([]byte, 3*bs)
	for i := range data {
		data[i] = byte(i * 3)
	}
	pb := newPieceBuf(len(data))
	pb.add(0, make([]byte, bs)) // bad data in block 0
	pb.add(bs, own(data[bs:2*bs]))
	if pb.hashed != 2*bs {
		t.Fatalf("hashed %d, want %d", pb.hashed, 2*bs)
	}
	if pb.forget(0) {
		t.Fatal("forget reported empty with block 1 still there")
	}
	if pb.hashed != 0 {
		t.Fatalf("hash prefix %d after forgetting block 0, want 0", pb.hashed)
	}
	pb.add(0, own(data[:bs])) // the good block again: prefix re-hashed with it
	pb.add(2*bs, own(data[2*bs:]))
	if pb.sum() != sha1.Sum(data) {
		t.Fatal("SHA-1 after re-receiving a forgotten block differs")
	}
	if pb.forget(bs) || pb.forget(0) || !pb.forget(2*bs) {
		t.Fatal("forget did not report empty exactly when the last block went")
	}
}

// own returns a copy of b, as a block handed to a piece (which may pass it
// to the block pool) must not alias the test's data.
func own(b []byte) []byte { return append([]byte(nil), b...) }

// TestPieceBufReuse: pieceBufs are recycled on release, and a recycled one
// starts empty, whatever size the piece before it had.
func TestPieceBufReuse(t *testing.T) {
	const bs = wire.BlockSize
	for i, size := range []int{70 * bs, 3*bs + 100, 64 * bs, bs} {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(j*13 + i)
		}
		pb := newPieceBuf(size)
		if pb.hashed != 0 || pb.size != size || len(pb.blocks) != (size+bs-1)/bs {
			t.Fatalf("piece %d: reused buffer: hashed %d size %d blocks %d", i, pb.hashed, pb.size, len(pb.blocks))
		}
		for k, b := range pb.blocks {
			if b != nil {
				t.Fatalf("piece %d: block %d left over from an earlier piece", i, k)
			}
		}
		for k := 0; k*bs < size; k++ {
			pb.add(k*bs, own(data[k*bs:min((k+1)*bs, size)]))
		}
		if got := pb.sum(); got != sha1.Sum(data) {
			t.Fatalf("piece %d: wrong hash after reuse", i)
		}
		pb.release()
	}
}
