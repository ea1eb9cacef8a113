package testutil

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"testing"

	"github.com/gobit/gobit/internal/bencode"
)

// BigTorrent returns a single-file .torrent named name with n pieces of
// random hashes (16 KiB each), so that a database record of it is about
// 20·n bytes, and its hex info hash. Its data is never meant to exist.
func BigTorrent(t testing.TB, name string, n int) ([]byte, string) {
	t.Helper()
	hashes := make([]byte, 20*n)
	rand.Read(hashes)
	info, err := bencode.Marshal(map[string]any{
		"name": name, "piece length": 16 << 10, "length": int64(n) * 16 << 10, "pieces": string(hashes),
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := bencode.Marshal(map[string]any{"info": bencode.RawMessage(info)})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(info)
	return data, hex.EncodeToString(sum[:])
}
