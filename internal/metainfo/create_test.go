package metainfo

import (
	"bytes"
	"crypto/sha1"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeTree creates files (relative slash paths -> contents) below dir.
func writeTree(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for rel, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// checkPieces verifies every piece hash of info against payload.
func checkPieces(t testing.TB, info *Info, payload []byte) {
	t.Helper()
	if info.TotalLength() != int64(len(payload)) {
		t.Fatalf("TotalLength = %d, want %d", info.TotalLength(), len(payload))
	}
	for i := range info.NumPieces() {
		off := int64(i) * info.PieceLength
		piece := payload[off : off+info.PieceSize(i)]
		if sha1.Sum(piece) != info.PieceHash(i) {
			t.Fatalf("piece %d hash mismatch", i)
		}
	}
}

func TestCreateMultiFile(t *testing.T) {
	root := filepath.Join(t.TempDir(), "payload")
	files := map[string][]byte{
		"b.bin":             randBytes(1, 40000),
		"a.bin":             randBytes(2, 16384),
		"sub/z.txt":         []byte("hello\n"),
		"sub/deeper/y.dat":  randBytes(3, 70001),
		"empty":             nil,
		"a b/space name.md": randBytes(4, 1000),
	}
	writeTree(t, root, files)
	data, mi, err := Create(CreateOptions{
		Path: root, PieceLength: 16384,
		Trackers: [][]string{{"http://127.0.0.1:1/announce", ""}, {"udp://127.0.0.1:2"}},
		WebSeeds: []string{"http://127.0.0.1:3/ws/"},
		Comment:  "c", CreatedBy: "gobit test", CreationDate: 1234, Private: true,
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	// Files sorted by path component by component ("a b" after "a.bin"
	// byte-wise, "sub/deeper" before "sub/z.txt").
	order := []string{"a b/space name.md", "a.bin", "b.bin", "empty", "sub/deeper/y.dat", "sub/z.txt"}
	var payload []byte
	var wantEntries []FileEntry
	for _, rel := range order {
		wantEntries = append(wantEntries, FileEntry{Path: filepath.Join("payload", filepath.FromSlash(rel)), Length: int64(len(files[rel])), Offset: int64(len(payload))})
		payload = append(payload, files[rel]...)
	}
	if got := mi.Info.FileEntries(); !reflect.DeepEqual(got, wantEntries) {
		t.Fatalf("FileEntries = %+v\nwant %+v", got, wantEntries)
	}
	checkPieces(t, &mi.Info, payload)
	checkConsistent(t, &mi.Info)
	if !mi.Info.Private || mi.Info.Name != "payload" || mi.Comment != "c" || mi.CreatedBy != "gobit test" || mi.CreationDate != 1234 {
		t.Fatalf("fields wrong: %+v", mi)
	}
	if mi.Announce != "http://127.0.0.1:1/announce" || !reflect.DeepEqual(mi.Trackers(), [][]string{{"http://127.0.0.1:1/announce"}, {"udp://127.0.0.1:2"}}) {
		t.Fatalf("trackers: %q %q", mi.Announce, mi.Trackers())
	}
	if !reflect.DeepEqual(mi.URLList, []string{"http://127.0.0.1:3/ws/"}) {
		t.Fatalf("url-list: %q", mi.URLList)
	}
	again, err := Parse(data)
	if err != nil || again.InfoHash != mi.InfoHash {
		t.Fatalf("re-parse: %v", err)
	}
	if mi.InfoHash != Hash(sha1.Sum(mi.InfoBytes)) || !bytes.Contains(data, mi.InfoBytes) {
		t.Fatalf("info bytes/hash inconsistent")
	}
}

func TestCreateSingleFileAutoPieceLength(t *testing.T) {
	dir := t.TempDir()
	payload := randBytes(5, 3_000_000)
	p := filepath.Join(dir, "single.bin")
	writeTree(t, dir, map[string][]byte{"single.bin": payload})
	_, mi, err := Create(CreateOptions{Path: p, Name: "renamed.bin"})
	if err != nil {
		t.Fatal(err)
	}
	// 3 MB in 16 KiB pieces is 184 pieces: the minimum piece length.
	if mi.Info.MultiFile() || mi.Info.Name != "renamed.bin" || mi.Info.PieceLength != 16384 {
		t.Fatalf("piece length %d, name %q, multi %v", mi.Info.PieceLength, mi.Info.Name, mi.Info.MultiFile())
	}
	checkPieces(t, &mi.Info, payload)
	if mi.Announce != "" || mi.Trackers() != nil || mi.CreationDate != 0 {
		t.Fatalf("unexpected optional fields: %+v", mi)
	}
	if es := mi.Info.FileEntries(); len(es) != 1 || es[0].Path != "renamed.bin" {
		t.Fatalf("FileEntries = %+v", es)
	}
}

func TestAutoPieceLength(t *testing.T) {
	tests := []struct{ total, want int64 }{
		{1, 16 << 10},
		{1500 * 16 << 10, 16 << 10},
		{1500*16<<10 + 1, 32 << 10},
		{4 << 30, 4 << 20},
		{1 << 40, 16 << 20},
	}
	for _, tc := range tests {
		if got := autoPieceLength(tc.total); got != tc.want {
			t.Errorf("autoPieceLength(%d) = %d, want %d", tc.total, got, tc.want)
		}
	}
}

func TestCreateErrors(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string][]byte{"zero/empty": nil, "ok/x": []byte("x")})
	os.Mkdir(filepath.Join(dir, "nofiles"), 0o755)
	tests := []struct {
		name string
		opts CreateOptions
		want string
	}{
		{"missing", CreateOptions{Path: filepath.Join(dir, "nope")}, "no such file"},
		{"empty dir", CreateOptions{Path: filepath.Join(dir, "nofiles")}, "no files"},
		{"zero bytes", CreateOptions{Path: filepath.Join(dir, "zero")}, "total length 0"},
		{"bad piece length", CreateOptions{Path: filepath.Join(dir, "ok"), PieceLength: -1}, "piece length -1"},
		{"huge piece length", CreateOptions{Path: filepath.Join(dir, "ok"), PieceLength: 1 << 30}, "piece length"},
		{"bad name", CreateOptions{Path: filepath.Join(dir, "ok", "x"), Name: ".."}, "does not validate"},
	}
	for _, tc := range tests {
		_, _, err := Create(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestCreateSkipsSymlinkedDirs(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "r")
	writeTree(t, root, map[string][]byte{"f": []byte("data"), "sub/g": []byte("more")})
	if err := os.Symlink(filepath.Join(root, "sub"), filepath.Join(root, "loop")); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	if err := os.Symlink(filepath.Join(root, "f"), filepath.Join(root, "flink")); err != nil {
		t.Fatal(err)
	}
	_, mi, err := Create(CreateOptions{Path: root})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range mi.Info.Files {
		got = append(got, strings.Join(f.Path, "/"))
	}
	if want := []string{"f", "flink", "sub/g"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("files = %q, want %q", got, want)
	}
}
