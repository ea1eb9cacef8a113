package qbittorrent

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/gobit/gobit/internal/api/apitest"
)

// BenchmarkMaindata10kFull measures a full sync/maindata (rid=0) of 10,000
// torrents.
func BenchmarkMaindata10kFull(b *testing.B) {
	h := New(apitest.BigSession(b, 10000), Options{})
	benchGet(b, h, Prefix+"sync/maindata?rid=0", func() {})
}

// BenchmarkMaindata10kIncremental measures sync/maindata with the rid of
// the answer before (a web UI's poll), nothing having changed.
func BenchmarkMaindata10kIncremental(b *testing.B) {
	h := New(apitest.BigSession(b, 10000), Options{})
	benchGet(b, h, Prefix+"sync/maindata?rid=1", func() {
		// each answer takes the next rid: keep asking with the one before
		// it, as a client does
		h.sync.mu.Lock()
		h.sync.last = 0
		h.sync.snaps = h.sync.snaps[len(h.sync.snaps)-1:]
		h.sync.snaps[0].rid = 1
		h.sync.last = 1
		h.sync.mu.Unlock()
	})
}

// BenchmarkTorrentsInfo10k measures torrents/info of 10,000 torrents.
func BenchmarkTorrentsInfo10k(b *testing.B) {
	h := New(apitest.BigSession(b, 10000), Options{})
	benchGet(b, h, Prefix+"torrents/info", func() {})
}

func benchGet(b *testing.B, h http.Handler, target string, between func()) {
	b.Helper()
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r.RemoteAddr = "127.0.0.1:40000"
		return r
	}
	w := &apitest.CountingWriter{}
	h.ServeHTTP(w, req())
	if w.Code != http.StatusOK || w.N < 100 {
		b.Fatalf("%s answered %d with %d bytes", target, w.Code, w.N)
	}
	between()
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0, n := apitest.ThreadCPU(), 0
	b.ResetTimer()
	for b.Loop() {
		n++
		w.N = 0
		h.ServeHTTP(w, req())
		between()
	}
	b.ReportMetric(float64(apitest.ThreadCPU()-cpu0)/float64(max(n, 1)), "cpu-ns/op")
	b.SetBytes(int64(w.N))
}
