package testutil

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestStartOpentracker(t *testing.T) {
	// later has a 0x20 byte, which must be sent as %20, not "+".
	known, later := [20]byte{0: 0xab, 19: 1}, [20]byte{0: 0xcd, 7: 0x20, 19: 2}
	httpURL, udpURL, addHash := StartOpentracker(t, known)
	if !strings.HasPrefix(httpURL, "http://127.0.0.1:") || !strings.HasSuffix(httpURL, "/announce") ||
		udpURL != "udp://"+strings.TrimSuffix(strings.TrimPrefix(httpURL, "http://"), "/announce") {
		t.Fatalf("URLs %q %q", httpURL, udpURL)
	}
	announce := func(h [20]byte) string {
		t.Helper()
		q := "?info_hash=" + escape(h[:]) + "&peer_id=-GBTEST-111111111111&port=7000&uploaded=0&downloaded=0&left=5&compact=1"
		body, err := httpGet(&http.Client{Timeout: 5 * time.Second}, httpURL+q)
		if err != nil {
			t.Fatal(err)
		}
		return string(body)
	}
	if body := announce(known); !strings.Contains(body, "8:interval") {
		t.Errorf("whitelisted hash: %q", body)
	}
	if body := announce(later); !strings.Contains(body, otNotAuthorized) {
		t.Errorf("unlisted hash accepted: %q", body)
	}
	addHash(later)
	if body := announce(later); !strings.Contains(body, "8:interval") {
		t.Errorf("hash added with addHash: %q", body)
	}
}
