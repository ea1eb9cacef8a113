package apitest

import (
	"context"
	"crypto/sha1"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
)

// BigSession returns a session (no peer port, no data directory) holding
// n torrents added by AddMany, closed when tb ends.
func BigSession(tb testing.TB, n int) *session.Session {
	tb.Helper()
	s, err := session.New(session.Config{DownloadDir: tb.TempDir(), Port: -1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	AddMany(tb, s, n)
	return s
}

// CountingWriter is an http.ResponseWriter that keeps the header, the
// status and the number of bytes written, and throws the bytes away: a
// benchmark's client.
type CountingWriter struct {
	H    http.Header
	Code int
	N    int
}

// Header returns the response header.
func (w *CountingWriter) Header() http.Header {
	if w.H == nil {
		w.H = http.Header{}
	}
	return w.H
}

// WriteHeader records the status.
func (w *CountingWriter) WriteHeader(code int) { w.Code = code }

// Write counts p.
func (w *CountingWriter) Write(p []byte) (int, error) {
	if w.Code == 0 {
		w.Code = http.StatusOK
	}
	w.N += len(p)
	return len(p), nil
}

// AddMany adds n generated single-file torrents to s, paused (so that no
// data need exist), in batches of a thousand, and waits until every one
// is parked: a seedbox-sized
// list for benchmarks of the list encoders. Every third torrent carries
// the tag "many"; the names and sizes differ.
func AddMany(tb testing.TB, s *session.Session, n int) {
	tb.Helper()
	var reqs []session.AddRequest
	flush := func() {
		if len(reqs) == 0 {
			return
		}
		_, errs := s.AddMany(context.Background(), reqs)
		for i, err := range errs {
			if err != nil {
				tb.Fatalf("add %d: %v", i, err)
			}
		}
		reqs = reqs[:0]
	}
	for i := range n {
		req := session.AddRequest{Torrent: generatedTorrent(i), Paused: true}
		if i%3 == 0 {
			req.Tags = []string{"many"}
		}
		reqs = append(reqs, req)
		if len(reqs) == 1000 {
			flush()
		}
	}
	flush()
	// Idle torrents park after a few seconds of quiet: wait, so that a
	// benchmark measures the list, not their start.
	deadline := time.Now().Add(2 * time.Minute)
	for s.Parked() < n {
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d torrents parked after 2 minutes", s.Parked(), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// generatedTorrent returns the metainfo of a single-file torrent of a few
// pieces whose hashes are made up (no data is ever checked against them).
func generatedTorrent(i int) []byte {
	const pieceLen = 16 << 10
	size := int64(pieceLen*(1+i%4) + i%1000)
	pieces := (size + pieceLen - 1) / pieceLen
	var hashes []byte
	for p := range pieces {
		h := sha1.Sum([]byte(fmt.Sprintf("many %d %d", i, p)))
		hashes = append(hashes, h[:]...)
	}
	name := fmt.Sprintf("many-%05d.bin", i)
	announce := fmt.Sprintf("http://127.0.0.1:1/announce/%d", i%100)
	return fmt.Appendf(nil, "d8:announce%d:%s4:infod6:lengthi%de4:name%d:%s12:piece lengthi%de6:pieces%d:%see",
		len(announce), announce, size, len(name), name, pieceLen, len(hashes), hashes)
}
