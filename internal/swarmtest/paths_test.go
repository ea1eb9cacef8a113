package swarmtest

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/bencode"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// evilTorrent is a crafted torrent: its info dictionary, encoded by hand
// with internal/bencode, and the payload it describes.
type evilTorrent struct {
	info    []byte
	payload []byte
	hash    [20]byte
}

const evilPieceLen = 16 << 10

// makeEvil builds an info dictionary with the given name and file paths
// (nil paths: a single-file torrent), each file fileLen bytes of random data.
func makeEvil(t *testing.T, name string, paths [][]string, fileLen int) evilTorrent {
	t.Helper()
	n := max(len(paths), 1)
	payload := make([]byte, n*fileLen)
	rng := rand.New(rand.NewPCG(uint64(len(name)), uint64(n)))
	for i := range payload {
		payload[i] = byte(rng.Uint32())
	}
	var pieces []byte
	for lo := 0; lo < len(payload); lo += evilPieceLen {
		h := sha1.Sum(payload[lo:min(lo+evilPieceLen, len(payload))])
		pieces = append(pieces, h[:]...)
	}
	info := map[string]any{"name": name, "piece length": evilPieceLen, "pieces": pieces}
	if paths == nil {
		info["length"] = len(payload)
	} else {
		var files []any
		for _, p := range paths {
			files = append(files, map[string]any{"length": fileLen, "path": p})
		}
		info["files"] = files
	}
	b, err := bencode.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	return evilTorrent{info: b, payload: payload, hash: sha1.Sum(b)}
}

func (e evilTorrent) torrentFile(t *testing.T, announce string) []byte {
	t.Helper()
	b, err := bencode.Marshal(map[string]any{"announce": announce, "info": bencode.RawMessage(e.info)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var evilCases = []struct {
	name  string
	tname string
	paths [][]string
}{
	{"dotdot", "evil", [][]string{{"ok.bin"}, {"..", "..", "x"}}},
	{"absolute", "evil", [][]string{{"/etc/passwd"}, {"ok.bin"}}},
	{"absolute components", "evil", [][]string{{"/", "tmp", "gobit-evil"}}},
	{"dotdot in the middle", "evil", [][]string{{"a", "..", "..", "b"}}},
	{"deep dotdot", "evil", [][]string{{"..", "..", "..", "..", "..", "y"}}},
	{"backslashes", "evil", [][]string{{"..\\..\\z"}}},
	{"dot", "evil", [][]string{{".", "w"}}},
	{"name dotdot", "..", [][]string{{"v"}}},
	{"name with slashes", "../../u", nil},
	{"name absolute", "/tmp/gobit-evil-name", nil},
	{"name empty", "", nil},
}

// jail is a save directory nested inside a temporary directory, so paths
// escaping it by a few levels still land somewhere a test can see.
func jail(t *testing.T) (outer, save string) {
	outer = t.TempDir()
	save = filepath.Join(outer, "a", "b", "c", "save")
	if err := os.MkdirAll(save, 0o755); err != nil {
		t.Fatal(err)
	}
	return outer, save
}

// checkJailed fails the test if anything appeared under outer that is not
// inside save.
func checkJailed(t *testing.T, outer, save string, before []string) {
	t.Helper()
	known := make(map[string]bool, len(before))
	for _, p := range before {
		known[p] = true
	}
	for _, p := range Snapshot(t, outer) {
		if known[p] || p == save || strings.HasPrefix(p, save+string(filepath.Separator)) {
			continue
		}
		t.Errorf("created outside the save directory: %s", p)
	}
	for _, p := range []string{"/tmp/gobit-evil", "/tmp/gobit-evil-name"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("created %s", p)
		}
	}
}

// TestMaliciousTorrentPaths adds crafted .torrent files whose paths try to
// escape the save directory; gobit must refuse them with ErrInvalid or
// keep every file inside. A fake seeder serves the data so that accepted
// torrents really write their files.
func TestMaliciousTorrentPaths(t *testing.T) {
	tr := trackertest.New(t)
	for _, tc := range evilCases {
		t.Run(tc.name, func(t *testing.T) {
			e := makeEvil(t, tc.tname, tc.paths, 20000)
			fake := StartFakePeer(t, e.hash, [20]byte([]byte("-XX0001-evil-seeder1")), ServeTorrent(e.info, e.payload))
			AnnounceFake(t, tr.HTTPURL(), e.hash, [20]byte([]byte("-XX0001-evil-seeder1")), fake.Port)
			outer, save := jail(t)
			before := Snapshot(t, outer)
			s := NewSession(t, save)
			_, err := s.Add(context.Background(), session.AddRequest{Torrent: e.torrentFile(t, tr.HTTPURL())})
			if err != nil {
				if !errors.Is(err, session.ErrInvalid) {
					t.Fatalf("Add refused with %v, want ErrInvalid", err)
				}
				t.Logf("refused: %v", err)
			} else {
				h := metainfo.Hash(e.hash).String()
				st := WaitState(t, s, h, 20*time.Second, session.StateSeeding, session.StateError)
				t.Logf("accepted, ended %s %s", st.State, st.Error)
				if st.State == session.StateSeeding {
					checkContents(t, s, h, save, e)
				}
				s.Close()
			}
			checkJailed(t, outer, save, before)
		})
	}
}

// checkContents checks that the files the session reports are inside save
// and hold the payload.
func checkContents(t *testing.T, s *session.Session, hash, save string, e evilTorrent) {
	t.Helper()
	d, err := s.Get(hash)
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, f := range d.Files {
		if !filepath.IsLocal(f.Path) {
			t.Errorf("file path %q is not local", f.Path)
			continue
		}
		b, err := os.ReadFile(filepath.Join(save, f.Path))
		if err != nil {
			t.Errorf("reading %s: %v", f.Path, err)
			continue
		}
		all = append(all, b...)
	}
	if string(all) != string(e.payload) {
		t.Errorf("files hold %d bytes that differ from the %d-byte payload", len(all), len(e.payload))
	}
}

// TestMaliciousMetadataPaths fetches crafted info dictionaries through a
// magnet from a fake peer (ut_metadata): the leecher must stop in the error
// state for paths it cannot accept, and never write outside its directory.
func TestMaliciousMetadataPaths(t *testing.T) {
	for _, tc := range evilCases {
		t.Run(tc.name, func(t *testing.T) {
			e := makeEvil(t, tc.tname, tc.paths, 20000)
			fake := StartFakePeer(t, e.hash, [20]byte([]byte("-XX0001-evil-seeder2")), ServeTorrent(e.info, e.payload))
			_, parseErr := metainfo.ParseInfo(e.info)
			outer, save := jail(t)
			before := Snapshot(t, outer)
			s := NewSession(t, save)
			m := metainfo.Magnet{InfoHash: metainfo.Hash(e.hash), Name: "innocent", Peers: []string{fmt.Sprintf("127.0.0.1:%d", fake.Port)}}
			h := metainfo.Hash(e.hash).String()
			if _, err := s.Add(context.Background(), session.AddRequest{URI: m.String()}); err != nil {
				t.Fatalf("adding the magnet: %v", err)
			}
			st := WaitState(t, s, h, 20*time.Second, session.StateSeeding, session.StateError)
			t.Logf("ended %s %s (metainfo: %v)", st.State, st.Error, parseErr)
			if parseErr != nil && st.State != session.StateError {
				t.Errorf("metadata that metainfo rejects (%v) ended in %s", parseErr, st.State)
			}
			if st.State == session.StateSeeding {
				checkContents(t, s, h, save, e)
			}
			s.Close()
			checkJailed(t, outer, save, before)
		})
	}
}

// TestSymlinkInSaveDirIsNotFollowed plants a symbolic link where the
// torrent's folder will go, pointing outside the save directory: gobit must
// not write through it.
func TestSymlinkInSaveDirIsNotFollowed(t *testing.T) {
	tr := trackertest.New(t)
	e := makeEvil(t, "evil", [][]string{{"ok.bin"}, {"sub", "two.bin"}}, 20000)
	fake := StartFakePeer(t, e.hash, [20]byte([]byte("-XX0001-evil-seeder3")), ServeTorrent(e.info, e.payload))
	AnnounceFake(t, tr.HTTPURL(), e.hash, [20]byte([]byte("-XX0001-evil-seeder3")), fake.Port)
	outer, save := jail(t)
	target := filepath.Join(outer, "target")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(save, "evil")); err != nil {
		t.Skipf("cannot create symlinks: %v", err)
	}
	s := NewSession(t, save)
	if _, err := s.Add(context.Background(), session.AddRequest{Torrent: e.torrentFile(t, tr.HTTPURL())}); err != nil {
		t.Fatalf("Add: %v", err)
	}
	h := metainfo.Hash(e.hash).String()
	st := WaitState(t, s, h, 20*time.Second, session.StateSeeding, session.StateError)
	t.Logf("ended %s %s", st.State, st.Error)
	s.Close()
	if got := Snapshot(t, target); len(got) != 1 {
		t.Errorf("gobit wrote through the symlink: %v", got[1:])
	}
}
