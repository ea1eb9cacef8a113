package metainfo

import (
	"bytes"
	"crypto/sha1"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add(torrentBytes(f, singleInfo("a.bin", 100000, 16384)))
	f.Add(torrentBytes(f, multiInfo("d", 16384, file(10, "a"), file(20000, "b", "c"))))
	f.Add(torrentBytes(f, multiInfo("d", 16384, file(10, ".."), file(20000, "b", "c"))))
	f.Add(torrentBytes(f, multiInfo("/abs", 16384, file(10, "a/b"), file(1, "a_b"), file(1, "x\x00"))))
	f.Add(torrentBytes(f, multiInfo("d", 16384, file(10, "a"), file(16374, ".pad", "16374"), file(3, "", "z"))))
	f.Add([]byte("d4:infod6:lengthi1e4:name1:a12:piece lengthi1e6:pieces20:aaaaaaaaaaaaaaaaaaaaee"))
	f.Add([]byte("d4:infod5:filesld6:lengthi1e4:pathl0:1:aeee4:name1:a12:piece lengthi1e6:pieces20:aaaaaaaaaaaaaaaaaaaaee"))
	for _, c := range namedCorpus(f) {
		f.Add(c.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mi, err := Parse(data)
		if err != nil {
			return
		}
		if mi.InfoHash != Hash(sha1.Sum(mi.InfoBytes)) {
			t.Fatalf("InfoHash is not the SHA-1 of InfoBytes")
		}
		if !bytes.Contains(data, mi.InfoBytes) {
			t.Fatalf("InfoBytes are not the info dictionary's bytes as found")
		}
		again, err := Parse(slices.Clone(data))
		if err != nil || again.InfoHash != mi.InfoHash || !reflect.DeepEqual(again.Info, mi.Info) {
			t.Fatalf("second Parse differs: %v", err)
		}
		checkConsistent(t, &mi.Info)
		checkInsideSaveDir(t, mi.Info.FileEntries(), asciiLower)
		// Windows rules must accept what they sanitize, or reject; the
		// result must stay local and unique.
		if es, err := mi.Info.fileEntries(pathRules{windows: true, foldCase: true}); err == nil {
			checkInsideSaveDir(t, es, strings.ToLower)
		}
		// Whatever validates also validates when re-parsed from InfoBytes.
		info, err := ParseInfo(mi.InfoBytes)
		if err != nil || !reflect.DeepEqual(info, &mi.Info) {
			t.Fatalf("ParseInfo(InfoBytes) = %v, %v", info, err)
		}
	})
}

// checkInsideSaveDir asserts that every path is relative, clean, free of
// ".." and inside a save directory, and that no two files share a path or
// one's path is a directory of another (compared through fold).
func checkInsideSaveDir(t *testing.T, es []FileEntry, fold func(string) string) {
	t.Helper()
	saveDir := filepath.Join(string(filepath.Separator)+"srv", "save")
	files := make(map[string]bool, len(es))
	dirs := make(map[string]bool)
	for _, e := range es {
		p := e.Path
		if p == "" || filepath.IsAbs(p) || !filepath.IsLocal(p) || filepath.Clean(p) != p {
			t.Fatalf("path %q is not a clean local relative path", p)
		}
		for _, c := range strings.Split(p, string(filepath.Separator)) {
			if c == "" || c == "." || c == ".." {
				t.Fatalf("path %q has component %q", p, c)
			}
		}
		full := filepath.Join(saveDir, p)
		if !strings.HasPrefix(full, saveDir+string(filepath.Separator)) {
			t.Fatalf("path %q resolves to %q, outside %q", p, full, saveDir)
		}
		k := fold(p)
		if files[k] || dirs[k] {
			t.Fatalf("path %q is used twice", p)
		}
		files[k] = true
		for d := filepath.Dir(k); d != "."; d = filepath.Dir(d) {
			if files[d] {
				t.Fatalf("path %q is inside file %q", p, d)
			}
			dirs[d] = true
		}
	}
}

func FuzzParseMagnet(f *testing.F) {
	f.Add("magnet:?xt=urn:btih:" + testHex)
	f.Add("magnet:?xt=urn:btih:4YUKHLQ33X6WIVLMCCWAKRMUYPANYSQW&dn=x+y&tr=udp%3A%2F%2Fa%3A1&tr.1=http://b/")
	f.Add("magnet:?xt=urn:btih:" + testHex + "&x.pe=[::1]:1&x.pe=1.2.3.4:5&x.pe=host:6&xl=10&so=0,2,4-6&ws=http://w/")
	f.Add("magnet:?xt=urn:btmh:1220ab&xt=urn:btih:" + testHex + "&so=,1-1,&kt=a")
	f.Add("magnet:?xt=urn:btih:" + testHex + "&x.pe=[fe80::1%25eth0]:7&dn=%00%ff")
	f.Fuzz(func(t *testing.T, uri string) {
		m, err := ParseMagnet(uri)
		if err != nil {
			return
		}
		s := m.String()
		again, err := ParseMagnet(s)
		if err != nil {
			t.Fatalf("ParseMagnet(%q) (from %q): %v", s, uri, err)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip of %q through %q:\n%+v\n%+v", uri, s, m, again)
		}
	})
}

func BenchmarkParse10kPieces(b *testing.B) {
	info := multiInfo("bench", 1<<20, file(5000<<20, "a.bin"), file(5000<<20, "sub", "b.bin"))
	data := torrentBytes(b, info)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
