package bencode

import (
	"crypto/sha1"
	"fmt"
	"strings"
)

// Test types shaped like a .torrent file (BEP 3, BEP 12).

type testFile struct {
	Length int64    `bencode:"length"`
	Path   []string `bencode:"path"`
	MD5    string   `bencode:"md5sum,omitempty"`
}

type testInfo struct {
	Name        string     `bencode:"name"`
	PieceLength int64      `bencode:"piece length"`
	Pieces      []byte     `bencode:"pieces"`
	Length      int64      `bencode:"length,omitempty"`
	Files       []testFile `bencode:"files,omitempty"`
	Private     bool       `bencode:"private,omitempty"`
	Source      string     `bencode:"source,omitempty"`
}

type testTorrent struct {
	Announce     string     `bencode:"announce,omitempty"`
	AnnounceList [][]string `bencode:"announce-list,omitempty"`
	Comment      string     `bencode:"comment,omitempty"`
	CreatedBy    string     `bencode:"created by,omitempty"`
	CreationDate int64      `bencode:"creation date,omitempty"`
	URLList      []string   `bencode:"url-list,omitempty"`
	Info         testInfo   `bencode:"info"`
}

type testTorrentRaw struct {
	Announce     string     `bencode:"announce,omitempty"`
	AnnounceList [][]string `bencode:"announce-list,omitempty"`
	Comment      string     `bencode:"comment,omitempty"`
	CreatedBy    string     `bencode:"created by,omitempty"`
	CreationDate int64      `bencode:"creation date,omitempty"`
	Info         RawMessage `bencode:"info"`
}

// makeTorrent builds a bencoded multi-file torrent with nPieces pieces.
func makeTorrent(nPieces int) []byte {
	pieces := make([]byte, 0, nPieces*sha1.Size)
	for i := range nPieces {
		h := sha1.Sum([]byte(fmt.Sprint(i)))
		pieces = append(pieces, h[:]...)
	}
	var files []testFile
	for i := range 8 {
		files = append(files, testFile{Length: int64(i+1) << 20, Path: []string{"dir", fmt.Sprintf("file-%d.bin", i)}})
	}
	t := testTorrent{
		Announce:     "http://tracker.example.com:6969/announce",
		AnnounceList: [][]string{{"http://tracker.example.com:6969/announce"}, {"udp://tracker.example.org:1337/announce", "udp://backup.example.org:80"}},
		Comment:      "a test torrent",
		CreatedBy:    "gobit test",
		CreationDate: 1700000000,
		Info: testInfo{
			Name:        "example",
			PieceLength: 256 << 10,
			Pieces:      pieces,
			Files:       files,
		},
	}
	b, err := Marshal(t)
	if err != nil {
		panic(err)
	}
	return b
}

// bstr encodes s as a bencode string.
func bstr(s string) string { return fmt.Sprintf("%d:%s", len(s), s) }

// realTorrent is a small hand-written torrent in the shape mktorrent and
// libtorrent produce, with a non-canonical (unsorted) info dictionary.
var realTorrent = "d" + bstr("announce") + bstr("udp://tracker.opentrackr.org:1337/announce") +
	bstr("announce-list") + "ll" + bstr("udp://tracker.opentrackr.org:1337/announce") + "el" +
	bstr("http://t.example/announce") + "ee" +
	bstr("comment") + bstr("test") + bstr("created by") + bstr("mktorrent 1.1") +
	bstr("creation date") + "i1700000000e" +
	bstr("info") + "d" + bstr("name") + bstr("file.bin") + bstr("length") + "i40000e" +
	bstr("piece length") + "i32768e" + bstr("pieces") + bstr(strings.Repeat("\x01", 20)+strings.Repeat("\xfe", 20)) +
	bstr("private") + "i1e" + bstr("source") + bstr("TEST") + "ee"
