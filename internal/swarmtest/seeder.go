package swarmtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/peer"
	"github.com/gobit/gobit/internal/session"
)

// SlowSeeder starts a session under the encryption policy enc seeding a
// 1 MiB torrent at 32 KiB/s, so that a peer downloading it stays connected
// for about half a minute, and returns the torrent's info hash and a magnet
// that names the seeder as its peer (x.pe).
func SlowSeeder(t testing.TB, enc peer.Encryption) (hash, magnet string) {
	t.Helper()
	dir := t.TempDir()
	root := Payload(t, dir, "slow.bin", 23, map[string]int{"": 1 << 20})
	data, mi := MakeTorrent(t, root, 64<<10)
	s := NewSessionWith(t, session.Config{DownloadDir: dir, Encryption: enc, UploadLimit: 32 << 10})
	if _, err := s.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	hash = mi.InfoHash.String()
	WaitState(t, s, hash, 30*time.Second, session.StateSeeding)
	return hash, fmt.Sprintf("magnet:?xt=urn:btih:%s&dn=slow.bin&x.pe=127.0.0.1:%d", hash, s.Port())
}
