package metainfo

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseTopLevel(t *testing.T) {
	info := singleInfo("file.bin", 50000, 16384)
	data := enc(t, dict{
		"announce":      "http://a/announce",
		"announce-list": list{list{"http://a/announce", "http://b/announce"}, list{"udp://c:1"}},
		"url-list":      list{"http://ws1/", "http://ws2/"},
		"comment":       "hello",
		"created by":    "test",
		"creation date": int64(1700000000),
		"info":          info,
	})
	mi, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	infoBytes := enc(t, info)
	if !bytes.Equal(mi.InfoBytes, infoBytes) {
		t.Fatalf("InfoBytes differ from the encoded info")
	}
	if mi.InfoHash != Hash(sha1.Sum(infoBytes)) {
		t.Fatalf("InfoHash mismatch")
	}
	want := &MetaInfo{
		Info:      Info{Name: "file.bin", PieceLength: 16384, Pieces: fakePieces(4), Length: 50000},
		InfoBytes: infoBytes, InfoHash: sha1.Sum(infoBytes),
		Announce:     "http://a/announce",
		AnnounceList: [][]string{{"http://a/announce", "http://b/announce"}, {"udp://c:1"}},
		URLList:      []string{"http://ws1/", "http://ws2/"},
		Comment:      "hello", CreatedBy: "test", CreationDate: 1700000000,
	}
	if !reflect.DeepEqual(mi, want) {
		t.Fatalf("got  %+v\nwant %+v", mi, want)
	}
	if mi.Info.MultiFile() || mi.Info.NumPieces() != 4 || mi.Info.PieceSize(3) != 50000-3*16384 || mi.Info.PieceHash(1) != [20]byte(fakePieces(4)[20:40]) {
		t.Fatalf("piece math wrong")
	}
	if mi.Info.PieceHash(4) != [20]byte{} || mi.Info.PieceHash(-1) != [20]byte{} {
		t.Fatalf("PieceHash out of range not zero")
	}
	mg := mi.Magnet()
	wantMg := Magnet{InfoHash: mi.InfoHash, Name: "file.bin", Length: 50000,
		Trackers: []string{"http://a/announce", "http://b/announce", "udp://c:1"}, WebSeeds: []string{"http://ws1/", "http://ws2/"}}
	if !reflect.DeepEqual(mg, wantMg) {
		t.Fatalf("Magnet() = %+v, want %+v", mg, wantMg)
	}
}

func TestNonCanonicalInfoHash(t *testing.T) {
	// Keys out of order and an unknown key: the hash must cover the bytes
	// as received, not a re-encoding.
	pieces := string(fakePieces(1))
	info := "d6:pieces20:" + pieces + "4:name1:a12:piece lengthi16384e6:lengthi10e7:x-extra3:fooe"
	data := []byte("d4:info" + info + "e")
	mi, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if mi.InfoHash != Hash(sha1.Sum([]byte(info))) || string(mi.InfoBytes) != info {
		t.Fatalf("info hash not over the raw bytes")
	}
}

func TestParseLenientOptionalFields(t *testing.T) {
	data := enc(t, dict{
		"announce":      int64(5),
		"announce-list": list{"not-a-tier", list{int64(1), "http://ok/"}, list{}},
		"url-list":      "http://single/",
		"comment":       list{},
		"creation date": "yesterday",
		"info":          singleInfo("a", 10, 16384),
	})
	mi, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if mi.Announce != "" || !reflect.DeepEqual(mi.AnnounceList, [][]string{{"http://ok/"}}) ||
		!reflect.DeepEqual(mi.URLList, []string{"http://single/"}) || mi.Comment != "" || mi.CreationDate != 0 {
		t.Fatalf("lenient fields wrong: %+v", mi)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "metainfo: decoding torrent"},
		{"not a dict", []byte("le"), "not a dictionary"},
		{"junk before", append([]byte(" "), torrentBytes(t, singleInfo("a", 10, 16384))...), "metainfo: decoding torrent"},
		{"non-string key", []byte("di1e1:xe"), "metainfo: decoding torrent"},
		{"integer of 21 digits", []byte("d1:xi000000000000000000001e4:infod4:name1:aee"), "integer overflow"},
		{"length out of range", []byte("d4:infod6:lengthi9223372036854775808e4:name1:a12:piece lengthi1e6:pieces0:ee"), "missing length"},
		{"too deep", []byte("d1:x" + strings.Repeat("l", 99) + strings.Repeat("e", 99) + "e"), "nesting too deep"},
		{"garbage", []byte("d4:info"), "metainfo: decoding torrent"},
		{"no info", []byte("d8:announce1:xe"), "missing info dictionary"},
		{"info not dict", []byte("d4:infoi3ee"), "missing info dictionary"},
	}
	for _, tc := range tests {
		_, err := Parse(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := Parse(make([]byte, MaxTorrentSize+1)); !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrInvalid) {
		t.Errorf("oversized: %v", err)
	}
}

func TestParseInfoPrivateSourceUTF8(t *testing.T) {
	info := multiInfo("raw-name", 16384, file(10, "raw"))
	info["private"] = int64(1)
	info["source"] = "TRK"
	info["name.utf-8"] = "ñame"
	info["files"].(list)[0].(dict)["path.utf-8"] = list{"ütf"}
	info["files"].(list)[0].(dict)["attr"] = "x"
	got, err := ParseInfo(enc(t, info))
	if err != nil {
		t.Fatal(err)
	}
	want := &Info{Name: "ñame", PieceLength: 16384, Pieces: fakePieces(1), Private: true, Source: "TRK",
		Files: []File{{Length: 10, Path: []string{"ütf"}, Attr: "x"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if es := got.FileEntries(); len(es) != 1 || es[0].Path != filepath.Join("ñame", "ütf") || es[0].Pad {
		t.Fatalf("FileEntries = %+v", es)
	}
	// private: 0 and a string "private" are not private.
	for _, v := range []any{int64(0), "1"} {
		info["private"] = v
		got, err := ParseInfo(enc(t, info))
		if err != nil || got.Private {
			t.Errorf("private=%v: Private=%v err=%v", v, got != nil && got.Private, err)
		}
	}
}

func TestTrackers(t *testing.T) {
	tests := []struct {
		name     string
		announce string
		list     [][]string
		want     [][]string
	}{
		{"none", "", nil, nil},
		{"announce only", "http://a", nil, [][]string{{"http://a"}}},
		{"list wins", "http://a", [][]string{{"http://b"}, {"http://c"}}, [][]string{{"http://b"}, {"http://c"}}},
		{"empty list falls back", "http://a", [][]string{{""}, {}}, [][]string{{"http://a"}}},
		{"dedupe across tiers", "", [][]string{{"http://a", "http://a", " "}, {"http://a"}, {"http://b"}}, [][]string{{"http://a"}, {"http://b"}}},
	}
	for _, tc := range tests {
		mi := &MetaInfo{Announce: tc.announce, AnnounceList: tc.list}
		if got := mi.Trackers(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Trackers() = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.torrent")
	data := torrentBytes(t, singleInfo("a", 10, 16384))
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	mi, err := Load(p)
	if err != nil || mi.Info.Name != "a" {
		t.Fatalf("Load: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	big := filepath.Join(dir, "big.torrent")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxTorrentSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := Load(big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("big file: %v", err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("directory: %v", err)
	}
	bad := filepath.Join(dir, "bad.torrent")
	os.WriteFile(bad, []byte("d4:infoi1ee"), 0o644)
	if _, err := Load(bad); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), bad) {
		t.Fatalf("bad file: %v", err)
	}
}

func TestSentinels(t *testing.T) {
	for _, e := range []error{ErrUnsafePath, ErrTooLarge} {
		if !errors.Is(e, ErrInvalid) || !strings.HasPrefix(e.Error(), "metainfo: ") {
			t.Errorf("%v: not a kind of ErrInvalid or badly named", e)
		}
	}
	if errors.Is(ErrInvalid, ErrUnsafePath) {
		t.Errorf("ErrInvalid matches ErrUnsafePath")
	}
}
