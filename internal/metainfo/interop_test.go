package metainfo

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/testutil"
)

// showInfo is what transmission-show prints about a torrent.
type showInfo struct {
	hash    string
	files   []string // slash paths as listed under FILES, sorted
	private bool
}

// transmissionShow runs transmission-show on a .torrent file.
func transmissionShow(t *testing.T, torrent string) showInfo {
	t.Helper()
	show := testutil.NeedProgram(t, "transmission-show", "transmission-cli")
	out, err := exec.Command(show, torrent).CombinedOutput()
	if err != nil {
		t.Fatalf("transmission-show %s: %v\n%s", torrent, err, out)
	}
	var si showInfo
	inFiles := false
	for _, line := range strings.Split(string(out), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "  Hash: "):
			si.hash = strings.TrimSpace(strings.TrimPrefix(line, "  Hash: "))
		case strings.HasPrefix(line, "  Privacy: "):
			si.private = strings.Contains(line, "Private")
		case trimmed == "FILES":
			inFiles = true
		case inFiles && trimmed != "":
			if i := strings.LastIndex(trimmed, " ("); i > 0 {
				trimmed = trimmed[:i]
			}
			si.files = append(si.files, trimmed)
		}
	}
	if si.hash == "" {
		t.Fatalf("no Hash: line in transmission-show output:\n%s", out)
	}
	slices.Sort(si.files)
	return si
}

// interopPayload writes a small multi-file payload and returns its root
// and the files' slash paths (below the root's parent) with their sizes.
func interopPayload(t *testing.T) (root string, want map[string]int64) {
	root = filepath.Join(t.TempDir(), "multi dir")
	files := map[string][]byte{
		"a.bin":            randBytes(10, 123457),
		"sub/b.bin":        randBytes(11, 30000),
		"sub/ünï cødé.txt": []byte("unicode name\n"),
		"c.txt":            []byte("hello\n"),
	}
	writeTree(t, root, files)
	want = map[string]int64{}
	for rel, data := range files {
		want["multi dir/"+rel] = int64(len(data))
	}
	return root, want
}

// checkAgainst compares a parsed torrent with transmission-show's view and
// with the payload on disk.
func checkAgainst(t *testing.T, torrentPath string, want map[string]int64, wantPieceLength int64) *MetaInfo {
	t.Helper()
	mi, err := Load(torrentPath)
	if err != nil {
		t.Fatalf("Load(%s): %v", torrentPath, err)
	}
	si := transmissionShow(t, torrentPath)
	if mi.InfoHash.String() != si.hash {
		t.Errorf("InfoHash = %s, transmission-show says %s", mi.InfoHash, si.hash)
	}
	got := map[string]int64{}
	var names []string
	for _, e := range mi.Info.FileEntries() {
		p := filepath.ToSlash(e.Path)
		got[p] = e.Length
		names = append(names, p)
	}
	slices.Sort(names)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("file entries = %v, want %v", got, want)
	}
	if !reflect.DeepEqual(names, si.files) {
		t.Errorf("file names = %q, transmission-show lists %q", names, si.files)
	}
	if si.private != mi.Info.Private {
		t.Errorf("Private = %v, transmission-show says %v", mi.Info.Private, si.private)
	}
	if wantPieceLength != 0 && mi.Info.PieceLength != wantPieceLength {
		t.Errorf("PieceLength = %d, want %d", mi.Info.PieceLength, wantPieceLength)
	}
	checkConsistent(t, &mi.Info)
	return mi
}

// payloadBytes concatenates the payload files in the torrent's order.
func payloadBytes(t *testing.T, parent string, mi *MetaInfo) []byte {
	t.Helper()
	var out []byte
	for _, e := range mi.Info.FileEntries() {
		b, err := os.ReadFile(filepath.Join(parent, e.Path))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

func TestInteropMktorrent(t *testing.T) {
	mk := testutil.NeedProgram(t, "mktorrent", "mktorrent")
	root, want := interopPayload(t)
	out := filepath.Join(t.TempDir(), "mk.torrent")
	cmd := exec.Command(mk, "-l", "15", "-p", "-a", "http://127.0.0.1:30000/announce,http://127.0.0.1:30001/announce",
		"-a", "udp://127.0.0.1:30000", "-w", "http://127.0.0.1:30002/ws", "-o", out, root)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mktorrent: %v\n%s", err, b)
	}
	mi := checkAgainst(t, out, want, 1<<15)
	checkPieces(t, &mi.Info, payloadBytes(t, filepath.Dir(root), mi))
	wantTiers := [][]string{{"http://127.0.0.1:30000/announce", "http://127.0.0.1:30001/announce"}, {"udp://127.0.0.1:30000"}}
	if got := mi.Trackers(); !reflect.DeepEqual(got, wantTiers) {
		t.Errorf("Trackers() = %q, want %q", got, wantTiers)
	}
	if !reflect.DeepEqual(mi.URLList, []string{"http://127.0.0.1:30002/ws"}) {
		t.Errorf("URLList = %q", mi.URLList)
	}

	// Single file too.
	single := filepath.Join(root, "a.bin")
	out1 := filepath.Join(t.TempDir(), "single.torrent")
	if b, err := exec.Command(mk, "-l", "16", "-a", "http://127.0.0.1:30000/announce", "-o", out1, single).CombinedOutput(); err != nil {
		t.Fatalf("mktorrent: %v\n%s", err, b)
	}
	mi1 := checkAgainst(t, out1, map[string]int64{"a.bin": want["multi dir/a.bin"]}, 1<<16)
	if mi1.Info.MultiFile() {
		t.Errorf("single-file torrent parsed as multi-file")
	}
	checkPieces(t, &mi1.Info, payloadBytes(t, root, mi1))
}

func TestInteropTransmissionCreate(t *testing.T) {
	tc := testutil.NeedProgram(t, "transmission-create", "transmission-cli")
	root, want := interopPayload(t)
	out := filepath.Join(t.TempDir(), "tr.torrent")
	cmd := exec.Command(tc, "-o", out, "-s", "32", "-c", "a comment", "-t", "http://127.0.0.1:30000/announce", root)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("transmission-create: %v\n%s", err, b)
	}
	mi := checkAgainst(t, out, want, 32<<10)
	checkPieces(t, &mi.Info, payloadBytes(t, filepath.Dir(root), mi))
	if mi.Comment != "a comment" || !strings.HasPrefix(mi.CreatedBy, "Transmission") {
		t.Errorf("comment %q, created by %q", mi.Comment, mi.CreatedBy)
	}
	if got := mi.Trackers(); !reflect.DeepEqual(got, [][]string{{"http://127.0.0.1:30000/announce"}}) {
		t.Errorf("Trackers() = %q", got)
	}
}

func TestInteropCreateAcceptedByTransmission(t *testing.T) {
	testutil.NeedProgram(t, "transmission-show", "transmission-cli")
	root, want := interopPayload(t)
	for _, private := range []bool{false, true} {
		data, mi, err := Create(CreateOptions{Path: root, Private: private, PieceLength: 16 << 10,
			Trackers: [][]string{{"http://127.0.0.1:30000/announce"}, {"udp://127.0.0.1:30000"}}, CreatedBy: "gobit"})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "gobit.torrent")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got := checkAgainst(t, p, want, 16<<10)
		if got.InfoHash != mi.InfoHash {
			t.Errorf("hash changed on reload")
		}
	}
}

// TestInteropSameHashAsMktorrent checks that Create produces the same info
// dictionary as mktorrent for the same payload and piece length (same file
// order, same fields), hence the same info hash.
func TestInteropSameHashAsMktorrent(t *testing.T) {
	mk := testutil.NeedProgram(t, "mktorrent", "mktorrent")
	root, _ := interopPayload(t)
	out := filepath.Join(t.TempDir(), "mk.torrent")
	if b, err := exec.Command(mk, "-l", "15", "-o", out, root).CombinedOutput(); err != nil {
		t.Fatalf("mktorrent: %v\n%s", err, b)
	}
	ref, err := Load(out)
	if err != nil {
		t.Fatal(err)
	}
	_, mi, err := Create(CreateOptions{Path: root, PieceLength: 1 << 15})
	if err != nil {
		t.Fatal(err)
	}
	if mi.InfoHash != ref.InfoHash {
		t.Errorf("Create hash %s, mktorrent %s", mi.InfoHash, ref.InfoHash)
	}
}
