package metainfo

import (
	"crypto/sha1"
	"testing"

	"github.com/gobit/gobit/internal/bencode"
)

// dict is a bencode dictionary for building test torrents.
type dict = map[string]any

// list is a bencode list for building test torrents.
type list = []any

// enc bencodes v or fails the test.
func enc(t testing.TB, v any) []byte {
	t.Helper()
	b, err := bencode.Marshal(v)
	if err != nil {
		t.Fatalf("bencode.Marshal: %v", err)
	}
	return b
}

// fakePieces returns n distinct 20-byte hashes.
func fakePieces(n int) []byte {
	out := make([]byte, 0, n*20)
	for i := range n {
		s := sha1.Sum([]byte{byte(i), byte(i >> 8), byte(i >> 16)})
		out = append(out, s[:]...)
	}
	return out
}

// singleInfo returns a valid single-file info dictionary.
func singleInfo(name string, length, pieceLength int64) dict {
	n := int((length + pieceLength - 1) / pieceLength)
	return dict{"name": name, "length": length, "piece length": pieceLength, "pieces": string(fakePieces(n))}
}

// multiInfo returns a valid multi-file info dictionary with the given
// files (each a dict with length and path).
func multiInfo(name string, pieceLength int64, files ...dict) dict {
	var total int64
	l := make(list, len(files))
	for i, f := range files {
		n, _ := f["length"].(int64) // absent for symbolic links
		total += n
		l[i] = f
	}
	n := int((total + pieceLength - 1) / pieceLength)
	return dict{"name": name, "files": l, "piece length": pieceLength, "pieces": string(fakePieces(n))}
}

// file returns a files-list entry.
func file(length int64, path ...string) dict {
	p := make(list, len(path))
	for i, c := range path {
		p[i] = c
	}
	return dict{"length": length, "path": p}
}

// torrentBytes wraps an info dictionary in a torrent with a tracker.
func torrentBytes(t testing.TB, info dict) []byte {
	t.Helper()
	return enc(t, dict{"announce": "http://127.0.0.1:1/announce", "info": info})
}
