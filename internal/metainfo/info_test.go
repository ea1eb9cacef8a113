package metainfo

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseValidation(t *testing.T) {
	tests := []struct {
		name    string
		info    func() dict
		wantErr string // substring; "" = valid
		unsafe  bool   // error must match ErrUnsafePath
	}{
		{"single ok", func() dict { return singleInfo("a.bin", 100000, 16384) }, "", false},
		{"multi ok", func() dict { return multiInfo("d", 16384, file(10, "a"), file(20000, "b", "c")) }, "", false},
		{"odd piece length ok", func() dict { return singleInfo("a", 100000, 30000) }, "", false},
		{"piece length 0", func() dict { d := singleInfo("a", 10, 16384); d["piece length"] = int64(0); return d }, "metainfo: info: piece length 0: must be > 0", false},
		{"piece length negative", func() dict { d := singleInfo("a", 10, 16384); d["piece length"] = int64(-5); return d }, "piece length -5: must be > 0", false},
		{"piece length too big", func() dict { return singleInfo("a", 10, 128<<20) }, "must be at most", false},
		{"empty name", func() dict { return singleInfo("", 10, 16384) }, "empty after sanitizing", false},
		{"missing name", func() dict { d := singleInfo("a", 10, 16384); delete(d, "name"); return d }, "missing name", false},
		{"missing pieces", func() dict { d := singleInfo("a", 10, 16384); delete(d, "pieces"); return d }, "missing pieces", false},
		{"missing piece length", func() dict { d := singleInfo("a", 10, 16384); delete(d, "piece length"); return d }, "missing piece length", false},
		{"pieces not multiple of 20", func() dict { d := singleInfo("a", 10, 16384); d["pieces"] = "123"; return d }, "not a multiple of 20", false},
		{"too few pieces", func() dict { d := singleInfo("a", 40000, 16384); d["pieces"] = string(fakePieces(2)); return d }, "2 piece hashes, want 3", false},
		{"too many pieces", func() dict { d := singleInfo("a", 40000, 16384); d["pieces"] = string(fakePieces(4)); return d }, "4 piece hashes, want 3", false},
		{"negative length", func() dict { d := singleInfo("a", 10, 16384); d["length"] = int64(-1); return d }, "length -1", false},
		{"zero length", func() dict { d := singleInfo("a", 10, 16384); d["length"] = int64(0); d["pieces"] = ""; return d }, "total length is 0", false},
		{"huge length", func() dict { d := singleInfo("a", 10, 16384); d["length"] = int64(1 << 50); return d }, "must be below", false},
		{"file just under 16 TiB", func() dict { return singleInfo("a", MaxFileLength-1, 64<<20) }, "", false},
		{"file of 16 TiB", func() dict { return singleInfo("a", MaxFileLength, 64<<20) }, "must be below", false},
		{"files win over length", func() dict { d := multiInfo("d", 16384, file(10, "a")); d["length"] = int64(99999); return d }, "", false},
		{"neither length nor files", func() dict { d := singleInfo("a", 10, 16384); delete(d, "length"); return d }, "missing length or files", false},
		{"empty files", func() dict { d := singleInfo("a", 10, 16384); delete(d, "length"); d["files"] = list{}; return d }, "files list is empty", false},
		{"negative file length", func() dict { return multiInfo("d", 16384, file(10, "a"), file(-10, "b")) }, "files[1]: length -10", false},
		{"file length overflow", func() dict {
			d := multiInfo("d", 16384, file(10, "a"))
			d["files"] = list{file(1<<49, "a"), file(1<<49, "b")}
			return d
		}, "must be below", false},
		{"total length overflow", func() dict {
			d := multiInfo("d", 16384, file(10, "a"))
			var l list
			for k := range 65 {
				l = append(l, file(1<<44-1<<20, fmt.Sprint(k)))
			}
			d["files"] = l
			return d
		}, "2^50", false},
		{"file missing length", func() dict {
			d := multiInfo("d", 16384, file(10, "a"))
			d["files"] = list{dict{"path": list{"a"}}}
			return d
		}, "files[0]: missing length", false},
		{"file missing path", func() dict {
			d := multiInfo("d", 16384, file(10, "a"))
			d["files"] = list{dict{"length": int64(10)}}
			return d
		}, "files[0]: missing path", false},
		{"name wrong type", func() dict { d := singleInfo("a", 10, 16384); d["name"] = int64(3); return d }, "missing name", false},
		{"name wrong type, name.utf-8 ok", func() dict { d := singleInfo("a", 10, 16384); d["name"] = int64(3); d["name.utf-8"] = "u"; return d }, "", false},
		{"pad without length", func() dict {
			d := multiInfo("d", 16384, file(10, "a"))
			d["files"] = list{file(10, "a"), dict{"attr": "p", "path": list{"p"}}}
			return d
		}, "files[1]: missing length", false},
		{"path element not a string", func() dict {
			d := multiInfo("d", 16384, file(10, "a"))
			d["files"] = list{dict{"length": int64(10), "path": list{"a", int64(1)}}}
			return d
		}, "path element 1 is not a string", false},
		{"single symlink has no data", func() dict { d := singleInfo("a", 10, 16384); d["attr"] = "l"; return d }, "total length is 0", false},
		{"v2 only", func() dict {
			return dict{"name": "a", "piece length": int64(16384), "meta version": int64(2), "file tree": dict{}}
		}, "v2-only", false},
		// Untrusted paths.
		{"dotdot name", func() dict { return singleInfo("..", 10, 16384) }, `name ".."`, true},
		{"dot name", func() dict { return singleInfo(".", 10, 16384) }, `name "."`, true},
		{"empty path", func() dict { return multiInfo("d", 16384, file(10)) }, "files[0]: path is empty", false},
		{"pad files may share a path", func() dict {
			d := multiInfo("d", 16384, file(10, "a"), file(16374, ".pad", "16374"), file(10, "b"), file(16374, ".pad", "16374"), file(5, "c"))
			for _, k := range []int{1, 3} {
				d["files"].(list)[k].(dict)["attr"] = "p"
			}
			return d
		}, "", false},
		{"path too long", func() dict { return multiInfo("d", 16384, file(10, strings.Repeat("a", 5000))) }, "longer than", true},
		{"name too long", func() dict { return singleInfo(strings.Repeat("a", 5000), 10, 16384) }, "name: 5000 bytes long", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mi, err := Parse(torrentBytes(t, tc.info()))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				checkConsistent(t, &mi.Info)
				return
			}
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			if tc.unsafe != errors.Is(err, ErrUnsafePath) {
				t.Errorf("errors.Is(%v, ErrUnsafePath) = %v, want %v", err, !tc.unsafe, tc.unsafe)
			}
		})
	}
}

// checkConsistent asserts the invariants of a validated Info.
func checkConsistent(t testing.TB, info *Info) {
	t.Helper()
	total := info.TotalLength()
	n := info.NumPieces()
	if want := (total + info.PieceLength - 1) / info.PieceLength; int64(n) != want {
		t.Fatalf("NumPieces = %d, want %d", n, want)
	}
	var sum int64
	for i := range n {
		s := info.PieceSize(i)
		if s <= 0 || s > info.PieceLength {
			t.Fatalf("PieceSize(%d) = %d", i, s)
		}
		sum += s
	}
	if sum != total {
		t.Fatalf("piece sizes add up to %d, want %d", sum, total)
	}
	if info.PieceSize(-1) != 0 || info.PieceSize(n) != 0 {
		t.Fatalf("PieceSize out of range not 0")
	}
	entries := info.FileEntries()
	if len(entries) == 0 {
		t.Fatalf("FileEntries empty for a valid info")
	}
	var off int64
	seen := map[string]bool{}
	for _, e := range entries {
		if !filepath.IsLocal(e.Path) {
			t.Fatalf("FileEntry path %q is not local", e.Path)
		}
		if e.Offset != off {
			t.Fatalf("entry %q offset %d, want %d", e.Path, e.Offset, off)
		}
		off += e.Length
		if !e.Pad {
			if seen[e.Path] {
				t.Fatalf("duplicate path %q", e.Path)
			}
			seen[e.Path] = true
		}
	}
	if off != total {
		t.Fatalf("entries add up to %d, want %d", off, total)
	}
}

func TestFileEntries(t *testing.T) {
	sep := string(filepath.Separator)
	tests := []struct {
		name string
		info dict
		want []FileEntry
	}{
		{"single", singleInfo("movie.mkv", 100, 64), []FileEntry{{Path: "movie.mkv", Length: 100}}},
		{"single sanitized name", singleInfo("/etc/passwd", 100, 64), []FileEntry{{Path: "_etc_passwd", Length: 100}}},
		{"multi", multiInfo("dir", 64, file(10, "a"), file(20, "sub", "b"), file(0, "empty")), []FileEntry{
			{Path: "dir" + sep + "a", Length: 10},
			{Path: "dir" + sep + "sub" + sep + "b", Length: 20, Offset: 10},
			{Path: "dir" + sep + "empty", Length: 0, Offset: 30},
		}},
		{"sanitizing", multiInfo("n\x00me", 64,
			file(1, "/abs"), file(1, `C:\win`), file(1, "a/b"), file(1, "ctl\x01\x1f\x7f"),
			file(1, "", "x", ""), file(1, "bad\xffutf8"), file(1, "\u0085c1")), []FileEntry{
			{Path: "n_me" + sep + "_abs", Length: 1},
			{Path: "n_me" + sep + "C:_win", Length: 1, Offset: 1},
			{Path: "n_me" + sep + "a_b", Length: 1, Offset: 2},
			{Path: "n_me" + sep + "ctl___", Length: 1, Offset: 3},
			{Path: "n_me" + sep + "x", Length: 1, Offset: 4},
			{Path: "n_me" + sep + "bad\uFFFDutf8", Length: 1, Offset: 5},
			{Path: "n_me" + sep + "_c1", Length: 1, Offset: 6},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mi, err := Parse(torrentBytes(t, tc.info))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := mi.Info.FileEntries(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("FileEntries =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}
