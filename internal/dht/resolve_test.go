package dht

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestBootstrapLookupHook: bootstrap host names are resolved by
// Config.LookupNetIP when it is set (never by the system resolver), IP
// addresses are not looked up, and a refusing hook leaves the name out.
func TestBootstrapLookupHook(t *testing.T) {
	boot := newTestServer(t, Config{})
	port := strconv.Itoa(int(addrOf(boot).Port()))
	var mu sync.Mutex
	var asked []string
	s := newTestServer(t, Config{
		Bootstrap: []string{"boot.test.invalid:" + port, "refused.test.invalid:" + port, "127.0.0.1:1"},
		LookupNetIP: func(ctx context.Context, host string) ([]netip.Addr, error) {
			mu.Lock()
			asked = append(asked, host)
			mu.Unlock()
			if host == "boot.test.invalid" {
				return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
			}
			return nil, errors.New("not resolved here")
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Bootstrap(ctx); err != nil {
		t.Fatalf("bootstrap through the hook's address: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) < 2 || asked[0] != "boot.test.invalid" || asked[1] != "refused.test.invalid" {
		t.Fatalf("looked up %q", asked)
	}
	for _, h := range asked {
		if h == "127.0.0.1" {
			t.Fatal("an IP address was looked up")
		}
	}
}
