package session

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/testutil"
)

// TestDHTEmptyLookupRetriesSoon: a magnet whose DHT lookup finds no peer
// is looked up again after dhtRetryEmpty, not after the hungry interval
// (a seeder that announces a moment later is found quickly).
func TestDHTEmptyLookupRetriesSoon(t *testing.T) {
	boot, err := New(Config{DownloadDir: t.TempDir(), ListenAddr: "127.0.0.1", DHT: true})
	if err != nil {
		t.Fatal(err)
	}
	defer boot.Close()
	s, err := New(Config{DownloadDir: t.TempDir(), ListenAddr: "127.0.0.1", DHT: true,
		DHTBootstrap: []string{fmt.Sprintf("127.0.0.1:%d", boot.Port())}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, mi := makeTorrent(t) // nobody has it
	if _, err := s.Add(context.Background(), AddRequest{URI: metainfo.Magnet{InfoHash: mi.InfoHash}.String()}); err != nil {
		t.Fatal(err)
	}
	var last time.Time
	if !testutil.Eventually(30*time.Second, func() bool {
		s.mu.Lock()
		l, ok := s.dhtLast[mi.InfoHash]
		s.mu.Unlock()
		last = l
		// Done once the next lookup is due within dhtRetryEmpty.
		return ok && time.Until(last.Add(dhtAnnounceHungry)) <= dhtRetryEmpty+time.Second
	}) {
		t.Fatalf("after an empty lookup the next is due in %v, want at most %v", time.Until(last.Add(dhtAnnounceHungry)), dhtRetryEmpty)
	}
}
