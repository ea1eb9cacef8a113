package metainfo

import (
	"bytes"
	"crypto/sha1"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestParseLiberalSyntax checks the syntax libtorrent accepts: trailing
// bytes, repeated keys (the first counts), unsorted keys and leading
// zeros; the info hash is always the SHA-1 of the info bytes as found.
func TestParseLiberalSyntax(t *testing.T) {
	p := string(fakePieces(1))
	info := "d6:lengthi10e4:name1:x12:piece lengthi16384e6:pieces20:" + p + "e"
	tests := []struct {
		name, data, info, wantName string
		wantLen                    int64
	}{
		{"trailing bytes", "d4:info" + info + "e\x00garbage\nmore", info, "x", 10},
		{"trailing torrent", "d4:info" + info + "ed4:infoi1ee", info, "x", 10},
		{"repeated info key", "d4:info" + info + "4:info" + strings.Replace(info, "1:x", "1:y", 1) + "e", info, "x", 10},
		{"repeated key in info", "d4:info" + strings.Replace(info, "e4:name1:x", "e4:name1:x4:name1:y6:lengthi99e", 1) + "e",
			strings.Replace(info, "e4:name1:x", "e4:name1:x4:name1:y6:lengthi99e", 1), "x", 10},
		{"unsorted keys", "d4:infod4:name1:x6:pieces20:" + p + "12:piece lengthi16384e6:lengthi10eee",
			"d4:name1:x6:pieces20:" + p + "12:piece lengthi16384e6:lengthi10ee", "x", 10},
		{"leading zeros", "d4:info" + strings.Replace(info, "i10e", "i010e", 1) + "e", strings.Replace(info, "i10e", "i010e", 1), "x", 10},
		{"leading zero length", "d4:info" + strings.Replace(info, "1:x", "01:x", 1) + "e", strings.Replace(info, "1:x", "01:x", 1), "x", 10},
		{"minus zero elsewhere", "d1:ai-0e4:info" + info + "e", info, "x", 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mi, err := Parse([]byte(tc.data))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !bytes.Equal(mi.InfoBytes, []byte(tc.info)) {
				t.Errorf("InfoBytes = %q, want %q", mi.InfoBytes, tc.info)
			}
			if mi.InfoHash != Hash(sha1.Sum([]byte(tc.info))) {
				t.Errorf("InfoHash is not the SHA-1 of the original info bytes")
			}
			if mi.Info.Name != tc.wantName || mi.Info.Length != tc.wantLen {
				t.Errorf("name %q length %d, want %q %d", mi.Info.Name, mi.Info.Length, tc.wantName, tc.wantLen)
			}
		})
	}
}

// TestParseBitCometExtras checks fields that BitComet and web-seed
// torrents carry, and optional fields of a wrong type.
func TestParseBitCometExtras(t *testing.T) {
	info := multiInfo("raw", 16384, file(10, "a"), file(10, "b"))
	info["name.utf-8"] = "名前"
	info["files"].(list)[0].(dict)["path.utf-8"] = list{"ファイル.txt"}
	info["files"].(list)[1].(dict)["path.utf-8"] = "not a list: ignored"
	info["publisher"] = "someone"
	info["publisher-url.utf-8"] = "http://x/"
	top := dict{"info": info, "encoding": "GBK", "url-list": "http://ws.example/file",
		"announce-list": list{list{"http://a/", int64(5)}, "junk", list{}, int64(7)},
		"creation date": "yesterday", "comment": int64(4), "nodes": list{list{"1.2.3.4", int64(5)}}}
	mi, err := Parse(enc(t, top))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	sep := string(filepath.Separator)
	var got []string
	for _, e := range mi.Info.FileEntries() {
		got = append(got, e.Path)
	}
	want := []string{"名前" + sep + "ファイル.txt", "名前" + sep + "b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paths %q, want %q", got, want)
	}
	if !reflect.DeepEqual(mi.URLList, []string{"http://ws.example/file"}) {
		t.Errorf("URLList = %q", mi.URLList)
	}
	if !reflect.DeepEqual(mi.Trackers(), [][]string{{"http://a/"}}) {
		t.Errorf("Trackers = %q", mi.Trackers())
	}
	if mi.CreationDate != 0 || mi.Comment != "" {
		t.Errorf("wrongly typed fields were not ignored: %+v", mi)
	}
}

// TestFileEntriesLikeLibtorrent checks the layouts of torrents whose paths
// need repair, made unique the way libtorrent 2.0 names them.
func TestFileEntriesLikeLibtorrent(t *testing.T) {
	pad := func(length int64, path ...string) dict { f := file(length, path...); f["attr"] = "p"; return f }
	link := func(path ...string) dict {
		f := file(0, path...)
		delete(f, "length")
		f["attr"] = "l"
		f["symlink path"] = list{"..", "..", "etc", "passwd"}
		return f
	}
	tests := []struct {
		name  string
		tname string
		files []dict
		want  []string // slash paths, in torrent order
	}{
		{"duplicates", "d", []dict{file(1, "a.txt"), file(1, "a.txt"), file(1, "A.TXT"), file(1, "a.1.txt")},
			[]string{"d/a.txt", "d/a.1.txt", "d/A.2.TXT", "d/a.1.1.txt"}},
		{"no extension", "d", []dict{file(1, "a"), file(1, "a")}, []string{"d/a", "d/a.1"}},
		{"double extension", "d", []dict{file(1, "x", "a.tar.gz"), file(1, "x", "a.tar.gz")}, []string{"d/x/a.tar.gz", "d/x/a.tar.1.gz"}},
		{"hidden and trailing dot", "d", []dict{file(1, ".h"), file(1, ".h"), file(1, "a."), file(1, "a.")},
			[]string{"d/.h", "d/.1.h", "d/a.", "d/a.1."}},
		{"dot dir", "d", []dict{file(1, "a.b", "c"), file(1, "a.b", "c")}, []string{"d/a.b/c", "d/a.b/c.1"}},
		{"dot and empty dropped", "d", []dict{file(1, "a", ".", "b"), file(1, "a", "", "b"), file(1, "", "a", "b")},
			[]string{"d/a/b", "d/a/b.1", "d/a/b.2"}},
		{"dotdot replaced", "d", []dict{file(1, "..", "b"), file(1, "a", ".."), file(1, "..")},
			[]string{"d/_/b", "d/a/_", "d/_.1"}},
		{"nothing left", "d", []dict{file(1, ""), file(1, "."), file(1, "", "")}, []string{"d/_", "d/_.1", "d/_.2"}},
		{"file then dir", "d", []dict{file(1, "x"), file(1, "x", "y", "z")}, []string{"d/x.1", "d/x/y/z"}},
		{"dir then file", "d", []dict{file(1, "x", "y", "z"), file(1, "X", "Y")}, []string{"d/x/y/z", "d/X/Y.1"}},
		{"separators", "d", []dict{file(1, "a/b"), file(1, "a_b"), file(1, `a\b`)}, []string{"d/a_b", "d/a_b.1", "d/a_b.2"}},
		{"dotdot name", "..", []dict{file(1, "a")}, []string{"_/a"}},
		{"empty name", "", []dict{file(1, "a")}, []string{"_/a"}},
		{"pads", "d", []dict{file(1, "a"), pad(16383), file(1, "b"), pad(16383, ".pad", "16383"), file(1, "a")},
			[]string{"d/a", "d/.pad/16383", "d/b", "d/.pad/16383.1", "d/a.1"}},
		{"symlinks are empty files", "d", []dict{file(1, "a"), link("l"), link("l")}, []string{"d/a", "d/l", "d/l.1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mi, err := Parse(torrentBytes(t, multiInfo(tc.tname, 16384, tc.files...)))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkConsistent(t, &mi.Info)
			var got []string
			for _, e := range mi.Info.FileEntries() {
				got = append(got, filepath.ToSlash(e.Path))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("paths\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

// TestUniquePathsLinear checks that many identical paths are renamed in
// linear time (a hostile torrent must not cost n² work).
func TestUniquePathsLinear(t *testing.T) {
	paths := make([]string, 200000)
	for i := range paths {
		paths[i] = "d/same.bin"
	}
	uniquePaths(paths, false)
	if paths[0] != "d/same.bin" || paths[1] != "d/same.1.bin" || paths[len(paths)-1] != "d/same.199999.bin" {
		t.Fatalf("paths %q %q %q", paths[0], paths[1], paths[len(paths)-1])
	}
}
