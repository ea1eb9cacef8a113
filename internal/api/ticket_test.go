package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// ticketFixture is a session with a complete two-file torrent behind a
// handler that needs a token.
type ticketFixture struct {
	h       *handler
	hd      http.Handler
	hash    string
	files   [][]byte
	logBuf  *bytes.Buffer
	authHdr map[string]string
}

const ticketToken = "s3cret-token"

func newTicketFixture(t *testing.T) *ticketFixture {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "album")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	files := [][]byte{bytes.Repeat([]byte("first file "), 4000), bytes.Repeat([]byte("second "), 3000)}
	for i, name := range []string{"a.webm", "b.txt"} {
		if err := os.WriteFile(filepath.Join(src, name), files[i], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, mi, err := metainfo.Create(metainfo.CreateOptions{Path: src, PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	s, err := session.New(session.Config{DownloadDir: dir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	hash := mi.InfoHash.String()
	testutil.WaitFor(t, 20*time.Second, "the torrent to be checked complete", func() bool {
		d, err := s.Get(hash)
		return err == nil && d.Progress >= 1
	})
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, hd := newHandler(s, Options{Token: ticketToken, Logger: log})
	return &ticketFixture{h: h, hd: hd, hash: hash, files: files, logBuf: &buf,
		authHdr: map[string]string{"Authorization": "Bearer " + ticketToken}}
}

// ticket asks for a stream ticket for file index with the token.
func (f *ticketFixture) ticket(t *testing.T, index string) StreamTicket {
	t.Helper()
	w := serve(t, f.hd, reqSpec{method: "POST", path: "/api/v1/torrents/" + f.hash + "/files/" + index + "/stream-ticket", headers: f.authHdr})
	if w.Code != http.StatusOK {
		t.Fatalf("stream-ticket %s: %d %s", index, w.Code, w.Body.String())
	}
	var st StreamTicket
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStreamTicketPlaysItsFileWithoutToken(t *testing.T) {
	f := newTicketFixture(t)
	// Without the token there is no ticket, and no stream.
	w := serve(t, f.hd, reqSpec{method: "POST", path: "/api/v1/torrents/" + f.hash + "/files/0/stream-ticket"})
	errorOf(t, w, http.StatusUnauthorized)
	w = serve(t, f.hd, reqSpec{method: "GET", path: "/api/v1/torrents/" + f.hash + "/files/0/stream"})
	errorOf(t, w, http.StatusUnauthorized)

	before := time.Now()
	st := f.ticket(t, "0")
	if !strings.HasPrefix(st.URL, "/api/v1/torrents/"+f.hash+"/files/0/stream?ticket=") {
		t.Fatalf("ticket URL %q", st.URL)
	}
	if d := st.Expires.Sub(before); d < StreamTicketTTL-time.Minute || d > StreamTicketTTL+time.Minute {
		t.Errorf("ticket expires in %v, want about %v", d, StreamTicketTTL)
	}
	// The ticket alone streams file 0: whole, a range, and HEAD.
	w = serve(t, f.hd, reqSpec{method: "GET", path: st.URL})
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), f.files[0]) {
		t.Fatalf("GET with ticket: %d, %d bytes (want %d)", w.Code, w.Body.Len(), len(f.files[0]))
	}
	w = serve(t, f.hd, reqSpec{method: "GET", path: st.URL, headers: map[string]string{"Range": "bytes=100-199"}})
	if w.Code != http.StatusPartialContent || !bytes.Equal(w.Body.Bytes(), f.files[0][100:200]) {
		t.Fatalf("ranged GET with ticket: %d %q", w.Code, w.Body.String())
	}
	w = serve(t, f.hd, reqSpec{method: "HEAD", path: st.URL})
	if w.Code != http.StatusOK {
		t.Fatalf("HEAD with ticket: %d", w.Code)
	}
	// The hash in upper case is the same file.
	upper := strings.Replace(st.URL, f.hash, strings.ToUpper(f.hash), 1)
	if w = serve(t, f.hd, reqSpec{method: "GET", path: upper}); w.Code != http.StatusOK {
		t.Errorf("GET with the hash in upper case: %d", w.Code)
	}
	// A ticket for file 1 plays file 1.
	st1 := f.ticket(t, "1")
	if w = serve(t, f.hd, reqSpec{method: "GET", path: st1.URL}); w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), f.files[1]) {
		t.Fatalf("file 1 with its ticket: %d", w.Code)
	}

	// The ticket never shows up in the log.
	sig := st.URL[strings.Index(st.URL, "ticket=")+len("ticket="):]
	if strings.Contains(f.logBuf.String(), sig) || strings.Contains(f.logBuf.String(), "ticket=") {
		t.Errorf("the log holds the ticket:\n%s", f.logBuf.String())
	}
	if !strings.Contains(f.logBuf.String(), "/files/0/stream") {
		t.Errorf("the log has no record of the stream requests:\n%s", f.logBuf.String())
	}
}

func TestStreamTicketRefusedElsewhere(t *testing.T) {
	f := newTicketFixture(t)
	st := f.ticket(t, "0")
	_, query, _ := strings.Cut(st.URL, "?")
	tk := strings.TrimPrefix(query, "ticket=")
	base := "/api/v1/torrents/" + f.hash
	other := strings.Repeat("ab", 20)
	refused := []reqSpec{
		{method: "GET", path: base + "/files/1/stream?" + query},                        // another file
		{method: "GET", path: "/api/v1/torrents/" + other + "/files/0/stream?" + query}, // another torrent
		{method: "GET", path: base + "/files/00/stream?" + query},                       // the same index, spelt otherwise
		{method: "GET", path: base + "?" + query},                                       // the torrent's detail
		{method: "GET", path: "/api/v1/torrents?" + query},                              // the list
		{method: "GET", path: base + "/pieces?" + query},                                // another route
		{method: "GET", path: "/api/v1/session?" + query},                               // the session
		{method: "DELETE", path: base + "?" + query + "&delete_data=true"},              // a change
		{method: "POST", path: base + "/pause?" + query},                                // another change
		{method: "POST", path: base + "/files/0/stream?" + query},                       // another method on the path
		{method: "POST", path: base + "/files/0/stream-ticket?" + query},                // a new ticket from a ticket
		{method: "GET", path: base + "/files/0/stream/extra?" + query},                  // a longer path
		{method: "GET", path: base + "/files/0/stream?" + query + "&" + query},          // two tickets
	}
	for _, rs := range refused {
		w := serve(t, f.hd, rs)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s %s with the ticket of file 0: %d, want 401", rs.method, rs.path, w.Code)
		}
	}
	if d, err := f.h.b.Get(f.hash); err != nil || d.State == session.StatePaused {
		t.Fatalf("the torrent was changed by a ticket: %v %v", d.State, err)
	}

	// Forged and altered tickets.
	expiry, sig, _ := strings.Cut(tk, ".")
	flip := []byte(sig)
	if flip[3] == 'A' {
		flip[3] = 'B'
	} else {
		flip[3] = 'A'
	}
	later := time.Now().Add(100 * 24 * time.Hour).Unix()
	forged := []string{
		expiry + "." + string(flip),                               // one character of the signature changed
		strings.Replace(tk, expiry, expiry+"0", 1),                // the expiry pushed back
		f.h.tickets.sign(f.hash, 1, time.Now().Add(time.Hour)),    // file 1's ticket
		newTicketKey().sign(f.hash, 0, time.Now().Add(time.Hour)), // another key (another daemon, a restart)
		"", ".", "abc", expiry, expiry + ".", "+" + tk, " " + tk, // malformed
		strings.Repeat("9", 200) + "." + sig, // over-long
		formatInt(later) + "." + sig,         // a signature moved onto another expiry
	}
	for _, bad := range forged {
		w := serve(t, f.hd, reqSpec{method: "GET", path: base + "/files/0/stream?ticket=" + urlQueryEscape(bad)})
		if w.Code != http.StatusUnauthorized {
			t.Errorf("forged ticket %q: %d, want 401", bad, w.Code)
		}
	}

	// An expired ticket: issued, then the clock moves past its expiry. The
	// clock is set from the ticket's own expiry, so a slow machine between
	// issuing and checking does not matter.
	exp, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil {
		t.Fatalf("ticket expiry %q: %v", expiry, err)
	}
	f.h.tickets.now = func() time.Time { return time.Unix(exp-1, 0) }
	if w := serve(t, f.hd, reqSpec{method: "GET", path: st.URL}); w.Code != http.StatusOK {
		t.Errorf("a ticket just before its expiry: %d, want 200", w.Code)
	}
	f.h.tickets.now = func() time.Time { return time.Unix(exp, 0) }
	if w := serve(t, f.hd, reqSpec{method: "GET", path: st.URL}); w.Code != http.StatusUnauthorized {
		t.Errorf("an expired ticket: %d, want 401", w.Code)
	}
	old := f.h.tickets.sign(f.hash, 0, time.Now().Add(-time.Second))
	f.h.tickets.now = time.Now
	if w := serve(t, f.hd, reqSpec{method: "GET", path: base + "/files/0/stream?ticket=" + urlQueryEscape(old)}); w.Code != http.StatusUnauthorized {
		t.Errorf("a ticket that expired a second ago: %d, want 401", w.Code)
	}
}

func TestStreamTicketRouteErrors(t *testing.T) {
	f := newTicketFixture(t)
	base := "/api/v1/torrents/" + f.hash
	for _, c := range []struct {
		path string
		code int
		want string
	}{
		{base + "/files/2/stream-ticket", http.StatusNotFound, "has no file 2"},
		{base + "/files/-1/stream-ticket", http.StatusBadRequest, "not a number"},
		{base + "/files/01/stream-ticket", http.StatusBadRequest, "not a number"},
		{base + "/files/x/stream-ticket", http.StatusBadRequest, "not a number"},
		{"/api/v1/torrents/" + strings.Repeat("cd", 20) + "/files/0/stream-ticket", http.StatusNotFound, "not found"},
		{"/api/v1/torrents/xyz/files/0/stream-ticket", http.StatusBadRequest, "40 hexadecimal"},
	} {
		w := serve(t, f.hd, reqSpec{method: "POST", path: c.path, headers: f.authHdr})
		mustHave(t, errorOf(t, w, c.code), c.want)
	}
	w := serve(t, f.hd, reqSpec{method: "GET", path: base + "/files/0/stream-ticket", headers: f.authHdr})
	errorOf(t, w, http.StatusMethodNotAllowed)
}

func TestStreamPath(t *testing.T) {
	h := strings.Repeat("0a", 20)
	for _, c := range []struct {
		path  string
		hash  string
		index int
		ok    bool
	}{
		{"/api/v1/torrents/" + h + "/files/3/stream", h, 3, true},
		{"/api/v1/torrents/" + strings.ToUpper(h) + "/files/0/stream", h, 0, true},
		{"/api/v1/torrents/" + h + "/files/03/stream", "", 0, false},
		{"/api/v1/torrents/" + h + "/files/3/stream/", "", 0, false},
		{"/api/v1/torrents/" + h + "/files/3", "", 0, false},
		{"/api/v1/torrents/" + h + "/files/+3/stream", "", 0, false},
		{"/api/v1/torrents/" + h[:39] + "/files/3/stream", "", 0, false},
		{"/api/v2/torrents/" + h + "/files/3/stream", "", 0, false},
		{"/api/v1/torrents/" + h + "/files/99999999999999999999/stream", "", 0, false},
	} {
		hash, index, ok := streamPath(c.path)
		if ok != c.ok || hash != c.hash || index != c.index {
			t.Errorf("streamPath(%q) = %q, %d, %v; want %q, %d, %v", c.path, hash, index, ok, c.hash, c.index, c.ok)
		}
	}
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
