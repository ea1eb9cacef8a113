package metainfo

import (
	"crypto/sha1"
	"path/filepath"
	"reflect"
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
	f.Fuzz(func(t *testing.T, data []byte) {
		mi, err := Parse(data)
		if err != nil {
			return
		}
		if mi.InfoHash != Hash(sha1.Sum(mi.InfoBytes)) {
			t.Fatalf("InfoHash is not the SHA-1 of InfoBytes")
		}
		checkConsistent(t, &mi.Info)
		for _, e := range mi.Info.FileEntries() {
			if !filepath.IsLocal(e.Path) {
				t.Fatalf("path %q is not local", e.Path)
			}
		}
		// Windows rules must accept what they sanitize, or reject; the
		// result must stay local.
		if es, err := mi.Info.fileEntries(pathRules{windows: true, foldCase: true}); err == nil {
			for _, e := range es {
				if !filepath.IsLocal(e.Path) {
					t.Fatalf("windows rules: path %q is not local", e.Path)
				}
			}
		}
		// Whatever validates also validates when re-parsed from InfoBytes.
		info, err := ParseInfo(mi.InfoBytes)
		if err != nil || !reflect.DeepEqual(info, &mi.Info) {
			t.Fatalf("ParseInfo(InfoBytes) = %v, %v", info, err)
		}
	})
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
