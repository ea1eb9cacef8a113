package api

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/gobit/gobit/internal/api/apitest"
)

// benchTorrents is the size of a seedbox's list in the list benchmarks.
const benchTorrents = 10000

// BenchmarkList10k measures GET /api/v1/torrents (every field) over
// 10,000 parked torrents, the handler alone (no network).
func BenchmarkList10k(b *testing.B) {
	hd := NewHandler(apitest.BigSession(b, benchTorrents), Options{})
	benchServe(b, hd, localRequest("/api/v1/torrents"))
}

// BenchmarkList10kFields measures the list with the fields a compact view
// asks for.
func BenchmarkList10kFields(b *testing.B) {
	hd := NewHandler(apitest.BigSession(b, benchTorrents), Options{})
	benchServe(b, hd, localRequest("/api/v1/torrents?fields=info_hash,name,state,progress"))
}

// BenchmarkList10kPage measures one page of 100 of the list.
func BenchmarkList10kPage(b *testing.B) {
	hd := NewHandler(apitest.BigSession(b, benchTorrents), Options{})
	benchServe(b, hd, localRequest("/api/v1/torrents?offset=5000&limit=100"))
}

func benchServe(b *testing.B, hd http.Handler, req *http.Request) {
	b.Helper()
	w := &apitest.CountingWriter{}
	hd.ServeHTTP(w, req)
	if w.Code != http.StatusOK || w.N < 100 {
		b.Fatalf("list answered %d with %d bytes", w.Code, w.N)
	}
	b.SetBytes(int64(w.N))
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0, n := apitest.ThreadCPU(), 0
	b.ResetTimer()
	for b.Loop() {
		n++
		w.N = 0
		hd.ServeHTTP(w, req)
	}
	b.ReportMetric(float64(apitest.ThreadCPU()-cpu0)/float64(max(n, 1)), "cpu-ns/op")
}

// localRequest is a GET of target from a loopback client.
func localRequest(target string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Host = "127.0.0.1"
	req.RemoteAddr = "127.0.0.1:40000"
	return req
}
