package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/api/apitest"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// TestListRowsFollowChanges: the list's cached rows are what encoding/json
// writes for the session's current statuses, byte for byte, before and
// after torrents change (renamed, tagged, limited, moved in the queue,
// removed): a changed torrent's row is encoded again, never served stale,
// and the cache keeps no more rows than the list bounds.
func TestListRowsFollowChanges(t *testing.T) {
	s, err := session.New(session.Config{DownloadDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	const n = 20
	apitest.AddMany(t, s, n)
	h, hd := newHandler(s, Options{})
	body := func(target string) []byte {
		t.Helper()
		var buf bytes.Buffer
		w := &bufWriter{h: http.Header{}, b: &buf}
		hd.ServeHTTP(w, localRequest(target))
		if w.code != http.StatusOK {
			t.Fatalf("%s: %d %s", target, w.code, buf.Bytes())
		}
		return buf.Bytes()
	}
	// matches reports whether the list is encoding/json's encoding of
	// List (the two are read apart; a torrent may publish between them,
	// hence the waits).
	matches := func() bool {
		want, err := json.Marshal(s.List())
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Equal(body("/api/v1/torrents"), append(want, '\n'))
	}
	testutil.WaitFor(t, 10*time.Second, "the list to match encoding/json", matches)
	if got := len(h.rows.rows); got != n {
		t.Fatalf("%d cached rows after a list of %d", got, n)
	}
	l := s.List()
	a, b, c := l[3].InfoHash, l[7].InfoHash, l[11].InfoHash
	name, limit := "renamed <&>", int64(12345)
	if _, err := s.UpdateTorrent(a, session.TorrentUpdate{Name: &name, AddTags: []string{"t2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateTorrent(b, session.TorrentUpdate{UploadLimit: &limit}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the changed list to match encoding/json", matches)
	if l := s.ListShared(); l[3].Name != name || l[7].UploadLimit != limit {
		t.Fatalf("changes not listed: %q, %d", l[3].Name, l[7].UploadLimit)
	}
	if err := s.MoveInQueue(b, session.QueueTop); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(c, false); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the changed list to match encoding/json", matches)
	var got []session.Status
	if err := json.Unmarshal(body("/api/v1/torrents"), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != n-1 {
		t.Fatalf("listed %d torrents after a removal, want %d", len(got), n-1)
	}
	seen := 0
	for _, st := range got {
		switch st.InfoHash {
		case a:
			seen++
			if st.Name != name || !slices.Contains(st.Tags, "t2") {
				t.Errorf("renamed and tagged torrent listed as %q %v", st.Name, st.Tags)
			}
		case b:
			seen++
			if st.UploadLimit != limit || st.QueuePosition != 1 {
				t.Errorf("limited torrent listed with limit %d at %d", st.UploadLimit, st.QueuePosition)
			}
		case c:
			t.Errorf("removed torrent still listed")
		}
	}
	if seen != 2 {
		t.Fatalf("changed torrents missing from the list")
	}
	// A page and a field selection are cut from the same statuses.
	var page []map[string]any
	if err := json.Unmarshal(body("/api/v1/torrents?offset=0&limit=1&fields=info_hash,name"), &page); err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 || page[0]["info_hash"] != b || len(page[0]) != 2 {
		t.Errorf("first page %v, want torrent %s (queue top) with 2 fields", page, b)
	}
	if got, max := len(h.rows.rows), (n-1)+(n-1)/2+64; got > max {
		t.Errorf("%d cached rows for a list of %d", got, n-1)
	}
}

// bufWriter is a ResponseWriter into a buffer.
type bufWriter struct {
	h    http.Header
	b    *bytes.Buffer
	code int
}

func (w *bufWriter) Header() http.Header { return w.h }
func (w *bufWriter) WriteHeader(c int)   { w.code = c }
func (w *bufWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.b.Write(p)
}

// TestRowCachePrunes: rows of statuses no longer listed are dropped once
// they outnumber the list by half.
func TestRowCachePrunes(t *testing.T) {
	var c rowCache
	mk := func(k int) []*session.Status {
		l := make([]*session.Status, k)
		for i := range l {
			l[i] = &session.Status{InfoHash: hashA, Tags: []string{}}
		}
		return l
	}
	old := mk(300)
	c.get(old, make([][]byte, len(old)))
	cur := mk(100)
	c.get(cur, make([][]byte, len(cur)))
	if len(c.rows) != 400 {
		t.Fatalf("%d rows cached, want 400", len(c.rows))
	}
	c.prune(cur)
	if len(c.rows) != 100 {
		t.Fatalf("%d rows after pruning, want the 100 listed", len(c.rows))
	}
	for _, st := range cur {
		if _, ok := c.rows[st]; !ok {
			t.Fatal("a listed status's row was pruned")
		}
	}
}
