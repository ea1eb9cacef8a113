package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/api/apitest"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
)

// eventStream is an open GET /api/v1/events.
type eventStream struct {
	resp   *http.Response
	first  string     // the first line of the body
	events chan Event // closed at the end of the stream
	lines  atomic.Int64
}

// openEvents opens the event stream of the API at base (an http:// URL)
// with the given headers and fails unless it answers 200.
func openEvents(t *testing.T, base string, hdr map[string]string) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/events", nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		t.Fatalf("GET /api/v1/events: %s", resp.Status)
	}
	t.Cleanup(func() { resp.Body.Close() })
	s := &eventStream{resp: resp, events: make(chan Event, 10000)}
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the stream's first line: %v", err)
	}
	s.first = strings.TrimSpace(line)
	go func() {
		defer close(s.events)
		readEvents(br, func() { s.lines.Add(1) }, func(ev Event) bool {
			s.events <- ev
			return true
		})
	}()
	return s
}

// wait returns the next event of type typ that satisfies ok (nil: any),
// skipping the others, and fails after a wide deadline.
func (s *eventStream) wait(t *testing.T, typ string, ok func(Event) bool) Event {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev, open := <-s.events:
			if !open {
				t.Fatalf("stream ended while waiting for %s", typ)
			}
			if ev.Type == typ && (ok == nil || ok(ev)) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event within 20 s", typ)
		}
	}
}

// ended waits for the end of the stream and returns the events before it.
func (s *eventStream) ended(t *testing.T) []Event {
	t.Helper()
	var out []Event
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev, open := <-s.events:
			if !open {
				return out
			}
			out = append(out, ev)
		case <-deadline:
			t.Fatal("the stream did not end within 20 s")
		}
	}
}

func decodeEvent[T any](t *testing.T, ev Event) T {
	t.Helper()
	var v T
	if err := ev.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// makeTorrentData returns a .torrent of one file with the given content.
func makeTorrentData(t *testing.T, name, content string) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	data, _, err := metainfo.Create(metainfo.CreateOptions{Path: p})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestEventsFromRealSession(t *testing.T) {
	dir := t.TempDir()
	s, err := session.New(session.Config{DownloadDir: dir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	st1, err := s.Add(ctx, session.AddRequest{Torrent: makeTorrentData(t, "one.bin", strings.Repeat("1", 40000)), Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewHandler(s, Options{Token: "tok"}))
	defer srv.Close()
	defer s.CloseEvents() // before srv.Close, which waits for the stream's handler

	// The stream obeys the API's rules: token, then Host.
	for _, c := range []struct {
		host, token string
		want        int
	}{{"", "", 401}, {"", "wrong", 401}, {"rebind.example", "tok", 403}} {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/events", nil)
		if c.host != "" {
			req.Host = c.host
		}
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("host %q token %q: %s, want %d", c.host, c.token, resp.Status, c.want)
		}
	}

	es := openEvents(t, srv.URL, map[string]string{"Authorization": "Bearer tok"})
	if ct := es.resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("Content-Type %q", ct)
	}
	if es.resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("Cache-Control %q", es.resp.Header.Get("Cache-Control"))
	}
	if es.first != "retry: 3000" {
		t.Errorf("first line %q, want the retry hint", es.first)
	}
	first := <-es.events
	if first.Type != "snapshot" {
		t.Fatalf("first event %s, want snapshot", first.Type)
	}
	snap := decodeEvent[session.Snapshot](t, first)
	if len(snap.Torrents) != 1 || snap.Torrents[0].InfoHash != st1.InfoHash || snap.Torrents[0].State != session.StatePaused {
		t.Fatalf("snapshot %+v", snap.Torrents)
	}
	if snap.Stats.Torrents != 1 || snap.Stats.States[session.StatePaused] != 1 {
		t.Errorf("snapshot stats %+v", snap.Stats)
	}
	// The totals count every state docs/api.md lists, and no other.
	doc, err := os.ReadFile(apiDoc)
	if err != nil {
		t.Fatal(err)
	}
	_, statesDoc, _ := strings.Cut(string(doc), "\n### States\n")
	statesDoc, _, _ = strings.Cut(statesDoc, "\n#")
	documentedStates := rowRe.FindAllStringSubmatch(statesDoc, -1)
	if len(documentedStates) < 6 || len(documentedStates) != len(snap.Stats.States) {
		t.Errorf("docs/api.md lists %d states, the totals count %d: %v", len(documentedStates), len(snap.Stats.States), snap.Stats.States)
	}
	for _, m := range documentedStates {
		if _, ok := snap.Stats.States[session.State(m[1])]; !ok {
			t.Errorf("the totals have no count of state %q (add it to session.eventStates)", m[1])
		}
	}
	// Every key of the real events is in docs/api.md.
	sections := readDocSections(t)
	documented := func(ev Event, obj json.RawMessage, names ...string) {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(obj, &m); err != nil {
			t.Fatalf("%s: %v", ev.Type, err)
		}
		allowed := map[string]bool{}
		for _, n := range names {
			for _, f := range sections[n] {
				allowed[f] = true
			}
		}
		for k := range m {
			if !allowed[k] {
				t.Errorf("%s: key %q is not in docs/api.md's %v", ev.Type, k, names)
			}
		}
	}
	var raw struct {
		Torrents []json.RawMessage `json:"torrents"`
		Stats    json.RawMessage   `json:"stats"`
	}
	json.Unmarshal(first.Data, &raw)
	documented(first, first.Data, "session.Snapshot")
	documented(first, raw.Torrents[0], "session.Status")
	documented(first, raw.Stats, "session.SessionStats")

	lastID := first.ID
	checkOrder := func(ev Event) {
		if ev.ID <= lastID {
			t.Errorf("event %s numbered %d after %d", ev.Type, ev.ID, lastID)
		}
		lastID = ev.ID
	}

	st2, err := s.Add(ctx, session.AddRequest{Torrent: makeTorrentData(t, "two.bin", strings.Repeat("2", 30000)), Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	ev := es.wait(t, "torrent-added", nil)
	checkOrder(ev)
	if got := decodeEvent[session.Status](t, ev); got.InfoHash != st2.InfoHash || got.Name != "two.bin" {
		t.Errorf("torrent-added %+v", got)
	}

	if err := s.Resume(st1.InfoHash); err != nil {
		t.Fatal(err)
	}
	ev = es.wait(t, "torrent-state", nil)
	checkOrder(ev)
	documented(ev, ev.Data, "session.Status", "session.StateChange")
	c := decodeEvent[session.StateChange](t, ev)
	if c.InfoHash != st1.InfoHash || c.PreviousState != session.StatePaused || c.State == session.StatePaused {
		t.Errorf("torrent-state after resume: %s %s -> %s", c.InfoHash, c.PreviousState, c.State)
	}
	if err := s.Pause(st1.InfoHash); err != nil {
		t.Fatal(err)
	}
	ev = es.wait(t, "torrent-state", func(ev Event) bool { return decodeEvent[session.StateChange](t, ev).State == session.StatePaused })
	checkOrder(ev)

	if err := s.Remove(st2.InfoHash, false); err != nil {
		t.Fatal(err)
	}
	ev = es.wait(t, "torrent-removed", nil)
	checkOrder(ev)
	documented(ev, ev.Data, "session.TorrentRemoved")
	if got := decodeEvent[session.TorrentRemoved](t, ev); got.InfoHash != st2.InfoHash {
		t.Errorf("torrent-removed %+v", got)
	}
	ev = es.wait(t, "session-stats", nil)
	checkOrder(ev)
	documented(ev, ev.Data, "session.SessionStats")
	if stats := decodeEvent[session.SessionStats](t, ev); stats.Torrents != 1 || stats.States[session.StatePaused] != 1 || stats.TotalSize != 40000 {
		t.Errorf("session-stats %+v", stats)
	}

	// Closing the session ends the stream.
	s.Close()
	es.ended(t)
}

// blockingWriter is a ResponseWriter whose writes wait until release is
// closed: a client that reads nothing.
type blockingWriter struct {
	hdr     http.Header
	writing chan struct{} // closed at the first write
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (b *blockingWriter) Header() http.Header { return b.hdr }
func (b *blockingWriter) WriteHeader(int)     {}
func (b *blockingWriter) Flush()              {}
func (b *blockingWriter) Write(p []byte) (int, error) {
	b.once.Do(func() { close(b.writing) })
	<-b.release
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func TestEventsSlowReaderIsDroppedWithoutSlowingThePublisher(t *testing.T) {
	fd := apitest.New()
	h := NewHandler(fd, Options{})
	bw := &blockingWriter{hdr: http.Header{}, writing: make(chan struct{}), release: make(chan struct{})}
	req := httptest.NewRequest("GET", "http://localhost:8080/api/v1/events", nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(bw, req)
	}()
	select {
	case <-bw.writing:
	case <-time.After(20 * time.Second):
		t.Fatal("the handler wrote nothing")
	}
	// The handler is stuck writing; the session goes on adding.
	added := make(chan struct{})
	go func() {
		defer close(added)
		for i := range 2 * session.DefaultEventQueue {
			fd.Add(context.Background(), session.AddRequest{URI: fmt.Sprintf("magnet:?xt=urn:btih:%040x", i)})
		}
	}()
	select {
	case <-added:
	case <-time.After(20 * time.Second):
		t.Fatal("adds blocked behind a stuck event stream")
	}
	close(bw.release)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the handler did not end after the overflow")
	}
	out := bw.buf.String()
	if !strings.HasPrefix(out, "retry: 3000\nid: 0\nevent: snapshot\n") {
		t.Errorf("stream starts %q", truncate(out, 80))
	}
	if !strings.HasSuffix(out, "event: overflow\ndata: {\"error\":\""+session.ErrOverflow.Error()+"\"}\n\n") {
		t.Errorf("stream ends %q, want an overflow event", out[max(0, len(out)-120):])
	}
	// The handler had taken the snapshot out of the queue (QueueSize+1
	// events, the snapshot's place included) when it got stuck.
	if n := strings.Count(out, "event: torrent-added\n"); n != session.DefaultEventQueue+1 {
		t.Errorf("%d torrent-added events before the drop, want the queue's %d", n, session.DefaultEventQueue+1)
	}
	// The dropped subscriber's slot is free again.
	if sub, err := fd.Subscribe(); err != nil {
		t.Errorf("subscribe after the drop: %v", err)
	} else {
		sub.Cancel()
	}
}

func TestEventsSubscriberLimit(t *testing.T) {
	fd := apitest.New()
	h := NewHandler(fd, Options{})
	var subs []*session.Subscription
	for range session.DefaultMaxSubscribers {
		sub, err := fd.Subscribe()
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	// HEAD answers at once, without a stream.
	if w := serve(t, h, reqSpec{method: "HEAD", path: "/api/v1/events"}); w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream") {
		t.Errorf("HEAD: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	w := serve(t, h, reqSpec{method: "GET", path: "/api/v1/events"})
	msg := errorOf(t, w, http.StatusServiceUnavailable)
	if !strings.Contains(msg, "too many event subscribers") || w.Header().Get("Retry-After") == "" {
		t.Errorf("503 %q, Retry-After %q", msg, w.Header().Get("Retry-After"))
	}
	subs[0].Cancel()
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer fd.CloseEvents()
	es := openEvents(t, srv.URL, nil)
	if ev := <-es.events; ev.Type != "snapshot" {
		t.Errorf("first event %s", ev.Type)
	}
	// A closed session's stream: 503 too.
	fd.CloseEvents()
	es.ended(t)
	errorOf(t, serve(t, h, reqSpec{method: "GET", path: "/api/v1/events"}), http.StatusServiceUnavailable)
}

// TestEventsOutliveServerTimeouts runs the stream behind a server with
// short read and write timeouts: heartbeats keep coming, events still
// arrive after the timeouts, and a graceful shutdown ends the stream.
func TestEventsOutliveServerTimeouts(t *testing.T) {
	old := heartbeat
	heartbeat = 50 * time.Millisecond
	defer func() { heartbeat = old }()
	fd := apitest.New()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: NewHandler(fd, Options{}), ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond}
	srv.RegisterOnShutdown(fd.CloseEvents)
	go srv.Serve(ln)
	defer srv.Close()

	es := openEvents(t, "http://"+ln.Addr().String(), nil)
	es.wait(t, "snapshot", nil)
	time.Sleep(time.Second)
	if n := es.lines.Load(); n < 3 {
		t.Errorf("%d lines in a second of silence, want heartbeats every 50 ms", n)
	}
	if _, err := fd.Add(context.Background(), session.AddRequest{URI: magnetA}); err != nil {
		t.Fatal(err)
	}
	if got := decodeEvent[session.Status](t, es.wait(t, "torrent-added", nil)); got.InfoHash != hashA {
		t.Errorf("torrent-added %+v", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("shutdown with an open stream: %v after %v", err, time.Since(start))
	}
	es.ended(t)
}

func TestClientEvents(t *testing.T) {
	fd := apitest.New()
	srv := httptest.NewServer(NewHandler(fd, Options{Token: "tok"}))
	defer srv.Close()
	defer fd.CloseEvents()

	// A wrong token is an error matching ErrUnauthorized.
	bad := &Client{BaseURL: srv.URL, Token: "nope"}
	for _, err := range bad.Events(context.Background()) {
		if !errors.Is(err, ErrUnauthorized) {
			t.Errorf("wrong token: %v", err)
		}
		break
	}

	c := &Client{BaseURL: srv.URL, Token: "tok", HTTP: &http.Client{Timeout: 100 * time.Millisecond}}
	type item struct {
		ev  Event
		err error
	}
	got := make(chan item, 100)
	go func() {
		defer close(got)
		for ev, err := range c.Events(context.Background()) {
			got <- item{ev, err}
		}
	}()
	next := func() item {
		t.Helper()
		select {
		case it, ok := <-got:
			if !ok {
				t.Fatal("iterator ended")
			}
			return it
		case <-time.After(20 * time.Second):
			t.Fatal("nothing from the iterator within 20 s")
		}
		return item{}
	}
	if it := next(); it.err != nil || it.ev.Type != "snapshot" {
		t.Fatalf("first: %+v", it)
	}
	// Longer than the client's own timeout: the stream is not cut.
	time.Sleep(300 * time.Millisecond)
	fd.Add(context.Background(), session.AddRequest{URI: magnetA})
	if it := next(); it.err != nil || it.ev.Type != "torrent-added" {
		t.Fatalf("after add: %+v", it)
	}
	fd.Pause(hashA)
	it := next()
	if it.err != nil || it.ev.Type != "torrent-state" {
		t.Fatalf("after pause: %+v", it)
	}
	if c := decodeEvent[session.StateChange](t, it.ev); c.State != session.StatePaused || c.PreviousState != session.StateDownloading {
		t.Errorf("state change %+v", c)
	}
	fd.CloseEvents()
	for {
		it := next()
		if it.err != nil {
			if !errors.Is(it.err, ErrStreamEnded) {
				t.Errorf("end of stream: %v", it.err)
			}
			break
		}
	}
}

func TestClientEventsParsesStreamAndOverflow(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "retry: 3000\nid: 7\nevent: snapshot\ndata: {\"torrents\":[],\n"+
			"data: \"stats\":{\"torrents\":0}}\n\n: keep-alive\n\nid: 8\nevent: session-stats\ndata:{\"torrents\":2}\n\n"+
			"event: overflow\ndata: {\"error\":\"too slow\"}\n\n")
	}))
	defer srv.Close()
	var evs []Event
	var last error
	for ev, err := range (&Client{BaseURL: srv.URL}).Events(context.Background()) {
		if err != nil {
			last = err
			break
		}
		evs = append(evs, ev)
	}
	if len(evs) != 3 || evs[0].Type != "snapshot" || evs[0].ID != 7 || evs[1].ID != 8 || evs[2].Type != EventOverflow {
		t.Fatalf("events %+v", evs)
	}
	if snap := decodeEvent[session.Snapshot](t, evs[0]); snap.Torrents == nil || snap.Stats.Torrents != 0 {
		t.Errorf("multi-line data decoded as %+v", snap)
	}
	if st := decodeEvent[session.SessionStats](t, evs[1]); st.Torrents != 2 {
		t.Errorf("data without a space: %+v", st)
	}
	if !errors.Is(last, session.ErrOverflow) {
		t.Errorf("error after an overflow event: %v", last)
	}

	// Not an event stream: a clear error.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode([]int{1})
	}))
	defer plain.Close()
	for _, err := range (&Client{BaseURL: plain.URL}).Events(context.Background()) {
		if err == nil || !strings.Contains(err.Error(), "not an event stream") {
			t.Errorf("answer of another server: %v", err)
		}
		break
	}
}

// TestEventsFollowARealDownload follows a download from a rate-limited
// seeder on loopback: progress events as the data arrives, then the change
// to seeding.
func TestEventsFollowARealDownload(t *testing.T) {
	src := t.TempDir()
	content := make([]byte, 3<<20)
	for i := range content {
		content[i] = byte(i*7 + i/4096)
	}
	if err := os.WriteFile(filepath.Join(src, "movie.bin"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	data, _, err := metainfo.Create(metainfo.CreateOptions{Path: filepath.Join(src, "movie.bin")})
	if err != nil {
		t.Fatal(err)
	}
	seeder, err := session.New(session.Config{DownloadDir: src, ListenAddr: "127.0.0.1", UploadLimit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer seeder.Close()
	ctx := context.Background()
	if _, err := seeder.Add(ctx, session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	leecher, err := session.New(session.Config{DownloadDir: t.TempDir(), ListenAddr: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer leecher.Close()
	srv := httptest.NewServer(NewHandler(leecher, Options{}))
	defer srv.Close()
	defer leecher.CloseEvents() // before srv.Close, which waits for the stream's handler
	es := openEvents(t, srv.URL, nil)
	es.wait(t, "snapshot", nil)

	st, err := leecher.Add(ctx, session.AddRequest{Torrent: data})
	if err != nil {
		t.Fatal(err)
	}
	if err := leecher.AddPeers(st.InfoHash, fmt.Sprintf("127.0.0.1:%d", seeder.Port())); err != nil {
		t.Fatal(err)
	}
	sections := readDocSections(t)
	allowed := map[string]bool{}
	for _, f := range sections["session.Progress"] {
		allowed[f] = true
	}
	var progress []session.Progress
	// While the piece flow, the leecher's list shows the seeder sending
	// and the seeder's the leecher receiving (from the published
	// snapshots: Transmission's peersSendingToUs and peersGettingFromUs).
	var sending, receiving bool
	statusIn := func(s *session.Session) session.Status {
		for _, x := range s.List() {
			if x.InfoHash == st.InfoHash {
				return x
			}
		}
		return session.Status{}
	}
	deadline := time.After(60 * time.Second)
	for done := false; !done; {
		select {
		case ev, ok := <-es.events:
			if !ok {
				t.Fatal("stream ended")
			}
			switch ev.Type {
			case "torrent-progress":
				var m map[string]any
				json.Unmarshal(ev.Data, &m)
				for k := range m {
					if !allowed[k] {
						t.Errorf("torrent-progress key %q is not in docs/api.md", k)
					}
				}
				progress = append(progress, decodeEvent[session.Progress](t, ev))
				sending = sending || statusIn(leecher).PeersSending == 1
				receiving = receiving || statusIn(seeder).PeersReceiving == 1
			case "torrent-state":
				c := decodeEvent[session.StateChange](t, ev)
				done = c.State == session.StateSeeding
				if done && (c.Completed != int64(len(content)) || c.Progress != 1) {
					t.Errorf("seeding with %d of %d bytes", c.Completed, len(content))
				}
			}
		case <-deadline:
			t.Fatalf("no change to seeding within 60 s; progress events %+v", progress)
		}
	}
	if !sending || !receiving {
		t.Errorf("during the download: peers_sending seen %v (leecher), peers_receiving seen %v (seeder)", sending, receiving)
	}
	midway := 0
	for i, p := range progress {
		if p.InfoHash != st.InfoHash {
			t.Errorf("progress of %s", p.InfoHash)
		}
		if i > 0 && p.Completed < progress[i-1].Completed {
			t.Errorf("progress went back: %d then %d", progress[i-1].Completed, p.Completed)
		}
		if p.Progress > 0 && p.Progress < 1 && p.DownloadRate > 0 && p.Peers == 1 {
			midway++
		}
	}
	if midway == 0 {
		t.Errorf("no progress event while downloading (3 MiB at 1 MiB/s): %+v", progress)
	}
}
