package metainfo

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// This file builds the corpus of odd and hostile .torrent files that the
// differential test (difftest_test.go) runs through both gobit and
// libtorrent, and that the storage safety test maps to disk.

// corpusCase is one torrent of the corpus.
type corpusCase struct {
	name string
	data []byte
	// tags name the known features of the case that explain an allowed
	// disagreement with libtorrent (see diffAllowed).
	tags []string
}

// kv is one entry of an ordered dictionary.
type kv struct {
	k string
	v any
}

// odict is a dictionary encoded with its entries in the given order, so
// that tests can write unsorted and repeated keys.
type odict []kv

// rawBen is inserted into the output as is.
type rawBen string

// benc encodes v, which is built from int, int64, string, rawBen, []any,
// map[string]any (keys sorted) and odict (keys as given).
func benc(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case int:
		fmt.Fprintf(b, "i%de", v)
	case int64:
		fmt.Fprintf(b, "i%de", v)
	case string:
		fmt.Fprintf(b, "%d:%s", len(v), v)
	case rawBen:
		b.WriteString(string(v))
	case []any:
		b.WriteByte('l')
		for _, e := range v {
			benc(b, e)
		}
		b.WriteByte('e')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('d')
		for _, k := range keys {
			benc(b, k)
			benc(b, v[k])
		}
		b.WriteByte('e')
	case odict:
		b.WriteByte('d')
		for _, e := range v {
			benc(b, e.k)
			benc(b, e.v)
		}
		b.WriteByte('e')
	default:
		panic(fmt.Sprintf("benc: %T", v))
	}
}

func bencBytes(v any) []byte {
	var b bytes.Buffer
	benc(&b, v)
	return b.Bytes()
}

// piecesFor returns valid-looking piece hashes for total bytes.
func piecesFor(total, pieceLength int64) string {
	if pieceLength <= 0 || total <= 0 {
		return ""
	}
	return strings.Repeat("\x01", int(20*((total+pieceLength-1)/pieceLength)))
}

// cf builds a files-list entry.
func cf(length any, path ...any) map[string]any {
	f := map[string]any{"path": path}
	if length != nil {
		f["length"] = length
	}
	return f
}

// with returns f with extra keys.
func with(f map[string]any, kvs ...any) map[string]any {
	for i := 0; i+1 < len(kvs); i += 2 {
		f[kvs[i].(string)] = kvs[i+1]
	}
	return f
}

// effLength is the length libtorrent counts for a files entry: 0 for a
// symbolic link, the "length" otherwise.
func effLength(f map[string]any) int64 {
	if a, _ := f["attr"].(string); strings.Contains(a, "l") {
		return 0
	}
	switch n := f["length"].(type) {
	case int:
		return int64(n)
	case int64:
		return n
	}
	return 0
}

// cmulti returns a multi-file info dictionary with matching pieces.
func cmulti(name any, pieceLength int64, files ...map[string]any) map[string]any {
	var total int64
	l := make([]any, len(files))
	for i, f := range files {
		total += max(effLength(f), 0)
		l[i] = f
	}
	return map[string]any{"name": name, "piece length": pieceLength, "pieces": piecesFor(total, pieceLength), "files": l}
}

// csingle returns a single-file info dictionary with matching pieces.
func csingle(name any, length, pieceLength int64) map[string]any {
	return map[string]any{"name": name, "length": length, "piece length": pieceLength, "pieces": piecesFor(length, pieceLength)}
}

// ctor wraps an info dictionary in a torrent.
func ctor(info any) []byte {
	return bencBytes(map[string]any{"announce": "http://127.0.0.1:1/announce", "info": info})
}

// emptyWithoutSeparators reports whether name is "", "." or ".." once its
// '/' and '\' are removed, as libtorrent removes them, though it is none
// of these as it is.
func emptyWithoutSeparators(name string) bool {
	switch name {
	case "", ".", "..":
		return false
	}
	switch strings.NewReplacer("/", "", `\`, "").Replace(name) {
	case "", ".", "..":
		return true
	}
	return false
}

// namedCorpus returns the hand-written cases.
func namedCorpus(t testing.TB) []corpusCase {
	var cs []corpusCase
	add := func(name string, data []byte, tags ...string) {
		cs = append(cs, corpusCase{name: name, data: data, tags: tags})
	}
	p16 := int64(16384)
	okInfo := csingle("x", 10, p16)
	// Syntax around the info dictionary.
	add("plain single", ctor(okInfo))
	add("plain multi", ctor(cmulti("d", p16, cf(10, "a"), cf(20000, "b", "c"))))
	add("trailing garbage", append(ctor(okInfo), "garbage\x00\xff"...))
	add("trailing second torrent", append(ctor(okInfo), ctor(csingle("y", 20, p16))...))
	add("trailing newline", append(ctor(okInfo), '\n'))
	add("junk before", append([]byte(" "), ctor(okInfo)...))
	add("truncated", ctor(okInfo)[:40])
	add("empty file", nil)
	add("top-level list", bencBytes([]any{okInfo}))
	add("no info", bencBytes(map[string]any{"announce": "x"}))
	add("info is a string", bencBytes(map[string]any{"info": "x"}))
	add("info is a list", bencBytes(map[string]any{"info": []any{1}}))
	add("repeated info key", bencBytes(odict{{"info", okInfo}, {"info", csingle("y", 20, p16)}}))
	add("repeated name in info", bencBytes(map[string]any{"info": odict{{"name", "x"}, {"length", 10}, {"piece length", 16384},
		{"pieces", piecesFor(10, p16)}, {"name", "y"}, {"length", 99999}}}))
	add("unsorted info", bencBytes(map[string]any{"info": odict{{"pieces", piecesFor(10, p16)}, {"piece length", 16384},
		{"name", "x"}, {"length", 10}}}))
	add("leading zero int in info", bytes.Replace(ctor(okInfo), []byte("i10e"), []byte("i010e"), 1))
	add("leading zero string length", bytes.Replace(ctor(okInfo), []byte("1:x"), []byte("01:x"), 1))
	add("minus zero", append([]byte("d1:ai-0e"), ctor(okInfo)[1:]...))
	add("negative leading zero", append([]byte("d1:ai-05e"), ctor(okInfo)[1:]...))
	for _, bad := range []string{"ie", "i-e", "i+5e", "i 5e", "i--5e", "i5.0e", "i99999999999999999999e", "i-9223372036854775809e"} {
		add("bad int "+bad, append([]byte("d1:a"+bad), ctor(okInfo)[1:]...))
	}
	add("max int", append([]byte("d1:ai9223372036854775807e2:a2i-9223372036854775808e"), ctor(okInfo)[1:]...))
	for _, bad := range []string{"-1:a", "1a:x", "+1:a", "99:short"} {
		add("bad string "+bad, append([]byte("d1:a"+bad), ctor(okInfo)[1:]...))
	}
	add("integer key", append([]byte("di1ei2e"), ctor(okInfo)[1:]...))
	for _, d := range []int{97, 98, 99, 100} {
		add(fmt.Sprintf("nesting %d", d), append([]byte("d1:a"+strings.Repeat("l", d)+strings.Repeat("e", d)), ctor(okInfo)[1:]...))
	}
	// Required fields.
	del := func(m map[string]any, k string) map[string]any { delete(m, k); return m }
	set := func(m map[string]any, k string, v any) map[string]any { m[k] = v; return m }
	add("no name", ctor(del(csingle("x", 10, p16), "name")))
	add("name int", ctor(set(csingle("x", 10, p16), "name", 5)))
	add("name.utf-8 only", ctor(set(del(csingle("x", 10, p16), "name"), "name.utf-8", "u")))
	add("name.utf-8 wins", ctor(set(csingle("x", 10, p16), "name.utf-8", "ü")))
	add("name.utf-8 int", ctor(set(csingle("x", 10, p16), "name.utf-8", 5)))
	add("name.utf-8 empty", ctor(set(csingle("x", 10, p16), "name.utf-8", "")))
	add("name.utf-8 invalid", ctor(set(csingle("x", 10, p16), "name.utf-8", "a\xff")))
	add("name.utf-8 dotdot", ctor(set(csingle("x", 10, p16), "name.utf-8", "..")))
	add("no piece length", ctor(del(csingle("x", 10, p16), "piece length")))
	add("piece length string", ctor(set(csingle("x", 10, p16), "piece length", "16384")))
	add("piece length 0", ctor(set(csingle("x", 10, p16), "piece length", 0)))
	add("piece length -16384", ctor(set(csingle("x", 10, p16), "piece length", -16384)))
	for _, pl := range []int64{1, 3, 16383, 1 << 24, 1 << 26} {
		add(fmt.Sprintf("piece length %d", pl), ctor(csingle("x", 100000, pl)))
	}
	for _, pl := range []int64{1<<26 + 1, 1 << 28, 1<<30 - 1} {
		add(fmt.Sprintf("piece length %d", pl), ctor(csingle("x", 10, pl)), "big-piece")
	}
	add("piece length 2^30", ctor(csingle("x", 10, 1<<30)))
	add("no pieces", ctor(del(csingle("x", 10, p16), "pieces")))
	add("pieces int", ctor(set(csingle("x", 10, p16), "pieces", 5)))
	add("pieces empty", ctor(set(csingle("x", 10, p16), "pieces", "")))
	add("pieces 19 bytes", ctor(set(csingle("x", 10, p16), "pieces", strings.Repeat("a", 19))))
	add("pieces 21 bytes", ctor(set(csingle("x", 10, p16), "pieces", strings.Repeat("a", 21))))
	add("pieces one short", ctor(set(csingle("x", 20000, p16), "pieces", piecesFor(10, p16))))
	add("pieces one extra", ctor(set(csingle("x", 10, p16), "pieces", piecesFor(20000, p16))))
	add("no length", ctor(del(csingle("x", 10, p16), "length")))
	add("length string", ctor(set(csingle("x", 10, p16), "length", "10")))
	add("length 0", ctor(csingle("x", 0, p16)))
	add("length -1", ctor(set(csingle("x", 10, p16), "length", -1)))
	add("length 1 TiB", ctor(csingle("x", 1<<40, 1<<26)))
	add("length just under 16 TiB", ctor(csingle("x", MaxFileLength-1, 1<<26)))
	add("length 16 TiB", ctor(csingle("x", MaxFileLength, 1<<26)))
	add("two 10 TiB files", ctor(cmulti("d", 1<<26, cf(int64(10<<40), "a"), cf(int64(10<<40), "b"))))
	add("files and length", ctor(set(cmulti("d", p16, cf(10, "a")), "length", 99999)))
	add("files is a string", ctor(set(csingle("x", 10, p16), "files", "x")))
	add("files is a dict", ctor(set(csingle("x", 10, p16), "files", map[string]any{"a": 1})))
	add("files empty", ctor(cmulti("d", p16)))
	add("file entry not a dict", ctor(set(cmulti("d", p16, cf(10, "a")), "files", []any{"a"})))
	add("single attr p", ctor(set(csingle("x", 10, p16), "attr", "p")))
	add("single attr l", ctor(set(csingle("x", 10, p16), "attr", "l")))
	add("single attr x", ctor(set(csingle("x", 10, p16), "attr", "x")))
	// Names.
	for _, n := range []string{"", ".", "..", "...", "a/b", "/", `\`, "../", "/etc/passwd", "\x01", "bad\xff", "CON", "nul.txt", "x ", "日本語", strings.Repeat("n", 255)} {
		var tags []string
		if emptyWithoutSeparators(n) {
			tags = append(tags, "sep-name")
		}
		add(fmt.Sprintf("single name %q", n), ctor(csingle(n, 10, p16)), tags...)
		add(fmt.Sprintf("multi name %q", n), ctor(cmulti(n, p16, cf(10, "a"))))
	}
	// Paths.
	add("path missing", ctor(cmulti("d", p16, map[string]any{"length": 10})))
	add("path empty list", ctor(cmulti("d", p16, cf(10))))
	add("path string", ctor(cmulti("d", p16, map[string]any{"length": 10, "path": "a"})))
	add("path element int", ctor(cmulti("d", p16, cf(10, "a", 5))))
	add("path.utf-8 wins", ctor(cmulti("d", p16, with(cf(10, "a"), "path.utf-8", []any{"ü"}))))
	add("path.utf-8 only", ctor(cmulti("d", p16, map[string]any{"length": 10, "path.utf-8": []any{"u"}})))
	add("path.utf-8 empty", ctor(cmulti("d", p16, with(cf(10, "a"), "path.utf-8", []any{}))))
	add("path.utf-8 string", ctor(cmulti("d", p16, with(cf(10, "a"), "path.utf-8", "u"))))
	add("path.utf-8 int element", ctor(cmulti("d", p16, with(cf(10, "a"), "path.utf-8", []any{1}))))
	for _, c := range []string{"", ".", "..", "...", "/", `\`, "../", "./", "/..", "a/../b", " ", "\x00", "\xff\xfe", "CON", "a:b"} {
		add(fmt.Sprintf("component %q", c), ctor(cmulti("d", p16, cf(10, c), cf(10, "x", c, "y"), cf(10, "x", "y"))))
	}
	add("duplicates", ctor(cmulti("d", p16, cf(10, "a.txt"), cf(10, "a.txt"), cf(10, "a.txt"), cf(5, "a.1.txt"))))
	add("duplicates case", ctor(cmulti("d", p16, cf(10, "A"), cf(10, "a"), cf(1, "Ä"), cf(1, "ä"))))
	add("duplicates after sanitizing", ctor(cmulti("d", p16, cf(10, "a", ".", "b"), cf(10, "a", "b"), cf(10, "a", "", "b"), cf(1, "a/b"), cf(1, "a_b"))))
	add("file then dir", ctor(cmulti("d", p16, cf(1, "x"), cf(1, "x", "y", "z"))))
	add("dir then file", ctor(cmulti("d", p16, cf(1, "x", "y", "z"), cf(1, "x"), cf(1, "X", "Y"))))
	add("hidden duplicates", ctor(cmulti("d", p16, cf(1, ".h"), cf(1, ".h"), cf(1, "a."), cf(1, "a."))))
	many := make([]map[string]any, 300)
	for i := range many {
		many[i] = cf(1, "same.bin")
	}
	add("300 identical paths", ctor(cmulti("d", p16, many...)))
	// Padding files and symbolic links.
	pad := func(f map[string]any) map[string]any { return with(f, "attr", "p") }
	link := func(f map[string]any, target ...any) map[string]any {
		f = with(f, "attr", "l")
		if target != nil {
			f["symlink path"] = target
		}
		return f
	}
	add("pad with path", ctor(cmulti("d", p16, cf(10, "a"), pad(cf(16374, ".pad", "16374")), cf(3, "b"), pad(cf(16381, ".pad", "16374")), cf(1, "c"))))
	add("pad without path", ctor(cmulti("d", p16, cf(10, "a"), pad(map[string]any{"length": 16374}), cf(3, "b"))))
	add("pad empty path", ctor(cmulti("d", p16, cf(10, "a"), pad(cf(16374)), cf(3, "b"))))
	add("pad without length", ctor(cmulti("d", p16, cf(10, "a"), pad(map[string]any{"path": []any{"p"}}), cf(3, "b"))))
	add("pad colliding with file", ctor(cmulti("d", p16, cf(10, "a"), pad(cf(16374, "a")), cf(3, "b"))))
	add("pad named like a dir", ctor(cmulti("d", p16, cf(10, "a"), pad(cf(16374, "b")), cf(3, "b", "c"))))
	add("pad dotdot", ctor(cmulti("d", p16, cf(10, "a"), pad(cf(16374, "..")), cf(3, "b"))))
	add("symlink without length", ctor(cmulti("d", p16, cf(10, "a"), link(cf(nil, "l"), "a"), cf(3, "b"))))
	add("symlink with length", ctor(cmulti("d", p16, cf(10, "a"), link(cf(5, "l"), "a"), cf(3, "b"))))
	add("symlink outside", ctor(cmulti("d", p16, cf(10, "a"), link(cf(0, "l"), "..", "..", "etc", "passwd"), cf(3, "b"))))
	add("symlink absolute", ctor(cmulti("d", p16, cf(10, "a"), link(cf(0, "l"), "/etc/passwd"), cf(3, "b"))))
	add("symlink negative length", ctor(cmulti("d", p16, cf(10, "a"), link(cf(-5, "l"), "a"), cf(3, "b"))))
	add("symlink string length", ctor(cmulti("d", p16, cf(10, "a"), link(cf("x", "l"), "a"), cf(3, "b"))))
	add("attr l without target", ctor(cmulti("d", p16, cf(10, "a"), link(cf(10, "l")), cf(3, "b"))))
	add("attr l without target or length", ctor(cmulti("d", p16, cf(10, "a"), link(cf(nil, "l")), cf(3, "b"))))
	add("target without attr", ctor(cmulti("d", p16, cf(10, "a"), with(cf(10, "l"), "symlink path", []any{"a"}), cf(3, "b"))))
	add("only symlinks", ctor(cmulti("d", p16, link(cf(nil, "l"), "a"))))
	add("symlink without path", ctor(cmulti("d", p16, cf(10, "a"), link(map[string]any{}, "a"))))
	add("attr int", ctor(cmulti("d", p16, with(cf(10, "a"), "attr", 5))))
	add("attr xh", ctor(cmulti("d", p16, with(cf(10, "a"), "attr", "xh"))))
	// Top-level extras of BitComet, web seeds and sloppy creators.
	top := func(extra map[string]any) []byte {
		m := map[string]any{"info": cmulti("raw", p16, with(cf(10, "a"), "path.utf-8", []any{"ファイル"}), cf(10, "b"))}
		for k, v := range extra {
			m[k] = v
		}
		return bencBytes(m)
	}
	add("bitcomet extras", top(map[string]any{"encoding": "GBK", "publisher": "p", "publisher.utf-8": "p", "publisher-url": "http://p/",
		"comment.utf-8": "c", "created by": "BitComet/2.0", "creation date": 1700000000}))
	add("url-list string", top(map[string]any{"url-list": "http://127.0.0.1:2/ws/"}))
	add("url-list list", top(map[string]any{"url-list": []any{"http://127.0.0.1:2/ws/", "", 5}}))
	add("url-list int", top(map[string]any{"url-list": 5}))
	add("url-list empty string", top(map[string]any{"url-list": ""}))
	add("announce-list odd", top(map[string]any{"announce-list": []any{[]any{"http://a/", 5}, "b", []any{}, 7}}))
	add("announce-list string", top(map[string]any{"announce-list": "http://a/"}))
	add("announce int", top(map[string]any{"announce": 5}))
	add("creation date string", top(map[string]any{"creation date": "yesterday"}))
	add("creation date negative", top(map[string]any{"creation date": -1}))
	add("nodes and httpseeds", top(map[string]any{"nodes": []any{[]any{"1.2.3.4", 6881}}, "httpseeds": []any{"http://h/"}}))
	add("info extras", ctor(set(set(set(csingle("x", 10, p16), "publisher", "p"), "name.utf-8", "x"), "private", "yes")))
	// Real torrents made by libtorrent: a v1+v2 hybrid and a v2-only one.
	for _, f := range []string{"hybrid.torrent", "v2only.torrent"} {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		var tags []string
		if f == "v2only.torrent" {
			tags = append(tags, "v2-only")
		}
		add(f, data, tags...)
		add(f+" with trailing bytes", append(slices.Clip(data), "\r\n"...), tags...)
	}
	return cs
}

// genCorpus returns n generated variants, the same for the same seed:
// random combinations of odd names, paths, attributes, lengths, repeated
// and unsorted keys, trailing bytes and wrong piece counts.
func genCorpus(seed uint64, n int) []corpusCase {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pick := func(xs ...any) any { return xs[r.IntN(len(xs))] }
	names := []any{"name", "name", "x.iso", "", ".", "..", "a/b", "../x", "n\x00me", "bad\xffutf", "日本", "CON", "x ", "a.b.c", "Name"}
	comps := []any{"a", "a", "A", "b.txt", "B.TXT", "b.txt", "", ".", "..", "a/b", `a\b`, "x\x01", "\xff", ".pad", "c.tar.gz", "sub", "sub", "a.1", "_"}
	lengths := []any{0, 1, 10, 16383, 16384, 16385, 100000, 1, 10}
	attrs := []any{"", "", "", "", "p", "l", "x", "lp", "h"}
	pls := []int64{16384, 16384, 16384, 32768, 1, 3, 65536, 1 << 22}
	var out []corpusCase
	for i := range n {
		var tags []string
		pl := pls[r.IntN(len(pls))]
		info := odict{}
		multi := r.IntN(10) < 7
		name := pick(names...)
		if r.IntN(20) == 0 {
			name = 7 // wrong type
		}
		info = append(info, kv{"name", name})
		if r.IntN(8) == 0 {
			info = append(info, kv{"name.utf-8", pick(names...)})
		}
		var total int64
		if multi {
			nf := 1 + r.IntN(6)
			files := make([]any, 0, nf)
			var prev []any
			for range nf {
				f := map[string]any{}
				var path []any
				if prev != nil && r.IntN(3) == 0 {
					path = prev // a duplicate
				} else {
					for range 1 + r.IntN(3) {
						path = append(path, pick(comps...))
					}
				}
				prev = path
				switch r.IntN(25) {
				case 0: // no path
				case 1:
					f["path"] = []any{}
				case 2:
					f["path"] = "a"
				case 3:
					f["path.utf-8"] = path
				case 4:
					f["path"] = path
					f["path.utf-8"] = pick("u", []any{"u"}, []any{})
				default:
					f["path"] = path
				}
				switch r.IntN(25) {
				case 0: // no length
				case 1:
					f["length"] = -1
				case 2:
					f["length"] = "5"
				default:
					f["length"] = pick(lengths...)
				}
				if a := pick(attrs...).(string); a != "" {
					f["attr"] = a
					if strings.Contains(a, "l") && r.IntN(2) == 0 {
						f["symlink path"] = pick([]any{"a"}, []any{"..", "..", "etc"}, []any{}, "a")
					}
				}
				total += max(effLength(f), 0)
				files = append(files, f)
			}
			info = append(info, kv{"files", files})
			if r.IntN(15) == 0 {
				info = append(info, kv{"length", 10})
			}
		} else {
			length := int64(pick(0, 1, 10, 16384, 100000, 100000).(int))
			info = append(info, kv{"length", length})
			total = length
			if r.IntN(10) == 0 {
				a := pick("p", "l", "x").(string)
				info = append(info, kv{"attr", a})
				if a == "l" {
					total = 0
				}
			}
		}
		info = append(info, kv{"piece length", pl})
		pieces := piecesFor(total, pl)
		switch r.IntN(25) {
		case 0:
			pieces += strings.Repeat("\x01", 20)
		case 1:
			if len(pieces) >= 20 {
				pieces = pieces[20:]
			}
		case 2:
			pieces += "x"
		}
		if r.IntN(40) != 0 {
			info = append(info, kv{"pieces", pieces})
		}
		if r.IntN(6) == 0 {
			info = append(info, kv{"private", pick(1, 0, "1")})
		}
		// Repeated keys: a second value after the first.
		if r.IntN(8) == 0 {
			info = append(info, kv{pick("name", "length", "piece length", "pieces", "files").(string), pick("y", 7, []any{}, piecesFor(1, 1))})
		}
		// Unsorted keys.
		if r.IntN(4) == 0 {
			r.Shuffle(len(info), func(a, b int) { info[a], info[b] = info[b], info[a] })
		} else {
			slices.SortStableFunc(info, func(a, b kv) int { return strings.Compare(a.k, b.k) })
		}
		top := odict{{"announce", "http://127.0.0.1:1/announce"}}
		if r.IntN(4) == 0 {
			top = append(top, kv{"announce-list", pick([]any{[]any{"http://a/"}}, []any{"x", 5}, 7)})
		}
		if r.IntN(4) == 0 {
			top = append(top, kv{"creation date", pick(1700000000, "x", -1)})
		}
		if r.IntN(4) == 0 {
			top = append(top, kv{"url-list", pick("http://w/", []any{"http://w/", 5}, 3)})
		}
		if r.IntN(6) == 0 {
			top = append(top, kv{"encoding", "UTF-8"})
		}
		top = append(top, kv{"info", info})
		data := bencBytes(top)
		if r.IntN(5) == 0 {
			data = append(data, pick("x", "\n", "d4:infoi1ee", "\x00\x00", "e").(string)...)
		}
		if r.IntN(20) == 0 {
			data = bytes.Replace(data, []byte("i1700000000e"), []byte("i01700000000e"), 1)
		}
		if n, ok := name.(string); ok && !multi && emptyWithoutSeparators(n) {
			tags = append(tags, "sep-name")
		}
		out = append(out, corpusCase{name: "generated " + strconv.Itoa(i), data: data, tags: tags})
	}
	return out
}
