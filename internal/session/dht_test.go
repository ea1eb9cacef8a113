package session

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
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
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		last, ok := s.dhtLast[mi.InfoHash]
		s.mu.Unlock()
		if next := time.Until(last.Add(dhtAnnounceHungry)); ok && next <= dhtRetryEmpty+time.Second {
			return // the next lookup is due within dhtRetryEmpty
		}
		if time.Now().After(deadline) {
			t.Fatalf("after an empty lookup the next is due in %v, want at most %v", time.Until(last.Add(dhtAnnounceHungry)), dhtRetryEmpty)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
