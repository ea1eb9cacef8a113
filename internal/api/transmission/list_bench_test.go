package transmission

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/api/apitest"
)

// The fields Transmission's clients ask for in their periodic list:
// transmission-remote -l, and the web UI (and transmission-remote-gtk).
var (
	remoteListFields = []string{"error", "errorString", "eta", "id", "isFinished", "leftUntilDone", "name",
		"peersGettingFromUs", "peersSendingToUs", "rateDownload", "rateUpload", "sizeWhenDone", "status", "uploadRatio"}
	webListFields = []string{"id", "name", "status", "error", "errorString", "percentDone", "totalSize", "sizeWhenDone",
		"leftUntilDone", "rateDownload", "rateUpload", "uploadRatio", "eta", "peersConnected", "peersSendingToUs",
		"peersGettingFromUs", "queuePosition", "addedDate", "doneDate", "downloadDir", "labels", "isFinished", "isStalled",
		"recheckProgress", "metadataPercentComplete", "uploadedEver", "downloadedEver", "hashString", "trackers"}
)

func BenchmarkTorrentGet10kRemote(b *testing.B) { benchTorrentGet(b, remoteListFields) }

func BenchmarkTorrentGet10kWeb(b *testing.B) { benchTorrentGet(b, webListFields) }

// benchTorrentGet measures a torrent-get of every torrent of 10,000 with
// the fields given.
func benchTorrentGet(b *testing.B, fields []string) {
	h := New(apitest.BigSession(b, 10000), Options{Version: "bench"})
	body, _ := json.Marshal(map[string]any{"method": "torrent-get", "arguments": map[string]any{"fields": fields}})
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/transmission/rpc", strings.NewReader(string(body)))
		r.Header.Set(SessionIDHeader, h.SessionID())
		return r
	}
	w := &apitest.CountingWriter{}
	h.ServeHTTP(w, req())
	if w.Code != http.StatusOK || w.N < 10000 {
		b.Fatalf("torrent-get answered %d with %d bytes", w.Code, w.N)
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
		h.ServeHTTP(w, req())
	}
	b.ReportMetric(float64(apitest.ThreadCPU()-cpu0)/float64(max(n, 1)), "cpu-ns/op")
}
