package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/api/apitest"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
)

// realDaemon serves the API over a real session (loopback only, no peer
// listener, discovery off) and returns a client for it.
func realDaemon(t *testing.T, cfg session.Config) (*session.Session, http.Handler, *Client) {
	t.Helper()
	if cfg.DownloadDir == "" {
		cfg.DownloadDir = t.TempDir()
	}
	cfg.Port = -1
	s, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	h := NewHandler(s, Options{})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return s, h, &Client{BaseURL: srv.URL}
}

func torrentBytes(t *testing.T, name string) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(strings.Repeat(name, 4000)), 0o644); err != nil {
		t.Fatal(err)
	}
	data, _, err := metainfo.Create(metainfo.CreateOptions{Path: p})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestCategoryAndTagRoutes(t *testing.T) {
	_, h, c := realDaemon(t, session.Config{DataDir: t.TempDir()})
	ctx := context.Background()
	catDir := filepath.Join(t.TempDir(), "linux")

	// Create; errors are 400, 409 and 404 with clear messages.
	if _, err := c.AddCategory(ctx, session.Category{Name: "linux", SavePath: catDir}); err != nil {
		t.Fatal(err)
	}
	w := serve(t, h, reqSpec{method: "POST", path: "/api/v1/categories", ctype: contentJSON, body: `{"name":"linux","save_path":"` + catDir + `"}`})
	mustHave(t, errorOf(t, w, http.StatusConflict), "already exists")
	w = serve(t, h, reqSpec{method: "POST", path: "/api/v1/categories", ctype: contentJSON, body: `{"name":"x","save_path":"rel/dir"}`})
	mustHave(t, errorOf(t, w, http.StatusBadRequest), "save_path", "absolute")
	w = serve(t, h, reqSpec{method: "POST", path: "/api/v1/categories", ctype: contentJSON, body: `{"name":"a,b","save_path":"/x"}`})
	mustHave(t, errorOf(t, w, http.StatusBadRequest), "comma")
	w = serve(t, h, reqSpec{method: "POST", path: "/api/v1/categories", ctype: contentJSON, body: `{"name":"x","path":"/x"}`})
	errorOf(t, w, http.StatusBadRequest) // unknown field
	w = serve(t, h, reqSpec{method: "DELETE", path: "/api/v1/categories/nope"})
	mustHave(t, errorOf(t, w, http.StatusNotFound), `category "nope" not found`)

	// Add into the category (JSON with a magnet, and raw bytes with query
	// parameters).
	magnet := "magnet:?xt=urn:btih:" + hashA
	st, err := c.AddRequest(ctx, session.AddRequest{URI: magnet, Category: "linux", Tags: []string{"iso", "new"}, Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.SaveDir != catDir || st.Category != "linux" || !slices.Equal(st.Tags, []string{"iso", "new"}) {
		t.Fatalf("added: %+v", st)
	}
	st2, err := c.AddRequest(ctx, session.AddRequest{Torrent: torrentBytes(t, "b"), Category: "linux", Tags: []string{"iso"}, Paused: true})
	if err != nil || st2.Category != "linux" || !slices.Equal(st2.Tags, []string{"iso"}) {
		t.Fatalf("raw add: %+v %v", st2, err)
	}
	st3, err := c.AddRequest(ctx, session.AddRequest{Torrent: torrentBytes(t, "c"), Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	w = serve(t, h, reqSpec{method: "POST", path: "/api/v1/torrents", ctype: contentJSON, body: `{"uri":"magnet:?xt=urn:btih:` + hashB + `","category":"ghost"}`})
	mustHave(t, errorOf(t, w, http.StatusBadRequest), `category "ghost" does not exist`)

	// Assign through PATCH.
	cat := "linux"
	st3, err = c.UpdateTorrent(ctx, st3.InfoHash, session.TorrentUpdate{Category: &cat, AddTags: []string{"x"}})
	if err != nil || st3.Category != "linux" || !slices.Equal(st3.Tags, []string{"x"}) {
		t.Fatalf("patch: %+v %v", st3, err)
	}
	w = serve(t, h, reqSpec{method: "PATCH", path: "/api/v1/torrents/" + st3.InfoHash, ctype: contentJSON, body: `{"add_tags":["bad\u0007tag"]}`})
	mustHave(t, errorOf(t, w, http.StatusBadRequest), "control character")

	// Filters.
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"", 3}, {"?category=linux", 3}, {"?category=", 0}, {"?tag=iso", 2}, {"?tag=iso,new", 1},
		{"?tag=iso&tag=new", 1}, {"?category=linux&tag=x", 1}, {"?category=other", 0},
	} {
		w := serve(t, h, reqSpec{method: "GET", path: "/api/v1/torrents" + tc.query})
		var l []session.Status
		if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil || w.Code != 200 {
			t.Fatalf("%s: %d %v", tc.query, w.Code, err)
		}
		if len(l) != tc.want {
			t.Errorf("GET /api/v1/torrents%s: %d torrents, want %d", tc.query, len(l), tc.want)
		}
		if strings.Contains(w.Body.String(), `"tags":null`) {
			t.Errorf("%s: tags null in %s", tc.query, w.Body.String())
		}
	}

	// Rename and delete tags and categories.
	if err := c.RenameTag(ctx, "iso", "image"); err != nil {
		t.Fatal(err)
	}
	if err := c.RenameTag(ctx, "iso", "image"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("renaming a gone tag: %v", err)
	}
	tags, err := c.Tags(ctx)
	if err != nil || len(tags) != 3 || tags[0] != (session.TagInfo{Name: "image", Torrents: 2}) {
		t.Errorf("tags: %+v %v", tags, err)
	}
	if err := c.RemoveTag(ctx, "new"); err != nil {
		t.Fatal(err)
	}
	distros := "distros"
	newDir := filepath.Join(t.TempDir(), "d")
	got, err := c.UpdateCategory(ctx, "linux", session.CategoryUpdate{Name: &distros, SavePath: &newDir})
	if err != nil || got != (session.Category{Name: "distros", SavePath: newDir}) {
		t.Fatalf("rename category: %+v %v", got, err)
	}
	l, err := c.ListFiltered(ctx, session.ListFilter{Category: &distros})
	if err != nil || len(l) != 3 {
		t.Fatalf("after the rename: %d torrents, %v", len(l), err)
	}
	cats, err := c.Categories(ctx)
	if err != nil || len(cats) != 1 || cats[0].Name != "distros" {
		t.Fatalf("categories: %+v %v", cats, err)
	}
	if err := c.RemoveCategory(ctx, "distros"); err != nil {
		t.Fatal(err)
	}
	d, err := c.Get(ctx, st.InfoHash)
	if err != nil || d.Category != "" || !slices.Equal(d.Tags, []string{"image"}) {
		t.Errorf("detail after deletes: category %q tags %v (%v)", d.Category, d.Tags, err)
	}
}

func TestQueueRoutes(t *testing.T) {
	s, h, c := realDaemon(t, session.Config{MaxActiveDownloads: 1, QueueInterval: 20 * time.Millisecond, StallTimeout: time.Hour})
	ctx := context.Background()
	var hashes []string
	for _, n := range []string{"one", "two"} {
		st, err := c.AddRequest(ctx, session.AddRequest{Torrent: torrentBytes(t, n)})
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, st.InfoHash)
	}
	state := func(h string) session.State {
		d, err := s.Get(h)
		if err != nil {
			t.Fatal(err)
		}
		return d.State
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out: %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	wait("second queued", func() bool { return state(hashes[1]) == session.StateQueued })
	if err := c.MoveInQueue(ctx, hashes[1], session.QueueTop); err != nil {
		t.Fatal(err)
	}
	wait("second running, first queued", func() bool {
		return state(hashes[1]) == session.StateDownloading && state(hashes[0]) == session.StateQueued
	})
	l, _ := c.List(ctx)
	if l[0].InfoHash != hashes[1] || l[0].QueuePosition != 1 {
		t.Errorf("list not in queue order: %s@%d", l[0].InfoHash, l[0].QueuePosition)
	}
	if err := c.ForceStart(ctx, hashes[0]); err != nil {
		t.Fatal(err)
	}
	wait("forced first running", func() bool { return state(hashes[0]) == session.StateDownloading })
	if d, _ := c.Get(ctx, hashes[0]); !d.Forced {
		t.Error("forced not shown")
	}

	w := serve(t, h, reqSpec{method: "POST", path: "/api/v1/torrents/" + hashes[0] + "/queue", ctype: contentJSON, body: `{"move":"sideways"}`})
	mustHave(t, errorOf(t, w, http.StatusBadRequest), "top, up, down or bottom")
	w = serve(t, h, reqSpec{method: "POST", path: "/api/v1/torrents/" + hashes[0] + "/queue", ctype: contentJSON, body: `{}`})
	mustHave(t, errorOf(t, w, http.StatusBadRequest), "missing")
	w = serve(t, h, reqSpec{method: "POST", path: "/api/v1/torrents/" + hashB + "/queue", ctype: contentJSON, body: `{"move":"up"}`})
	errorOf(t, w, http.StatusNotFound)
	w = serve(t, h, reqSpec{method: "POST", path: "/api/v1/torrents/" + hashB + "/force-start"})
	errorOf(t, w, http.StatusNotFound)

	// The queue limits are session settings.
	w = serve(t, h, reqSpec{method: "PATCH", path: "/api/v1/session", ctype: contentJSON, body: `{"max_active":-1}`})
	mustHave(t, errorOf(t, w, http.StatusBadRequest), "max_active")
	w = serve(t, h, reqSpec{method: "PATCH", path: "/api/v1/session", ctype: contentJSON, body: `{"max_active_downloads":0,"max_active_seeds":3}`})
	var set session.Settings
	if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil || set.MaxActiveDownloads != 0 || set.MaxActiveSeeds != 3 {
		t.Fatalf("settings: %s", w.Body.String())
	}
}

// TestOrganizerRoutesNeedOrganizer: a backend without categories and
// queues answers 404 on those routes rather than failing.
func TestOrganizerRoutesNeedOrganizer(t *testing.T) {
	h := NewHandler(apitest.New(), Options{})
	w := serve(t, h, reqSpec{method: "GET", path: "/api/v1/categories"})
	errorOf(t, w, http.StatusNotFound)
}

func mustHave(t *testing.T, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%q lacks %q", s, w)
		}
	}
}

// TestCategoryNameWithSlash: names may hold a slash (as qBittorrent's
// subcategories do); the client escapes it in the path.
func TestCategoryNameWithSlash(t *testing.T) {
	_, _, c := realDaemon(t, session.Config{})
	ctx := context.Background()
	if _, err := c.AddCategory(ctx, session.Category{Name: "tv/shows", SavePath: "/srv/tv"}); err != nil {
		t.Fatal(err)
	}
	to := "tv/series"
	if _, err := c.UpdateCategory(ctx, "tv/shows", session.CategoryUpdate{Name: &to}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveCategory(ctx, "tv/series"); err != nil {
		t.Fatal(err)
	}
}

// TestAddFormsCarryLabels: the multipart form's category and tags fields
// and the raw form's query parameters reach the session.
func TestAddFormsCarryLabels(t *testing.T) {
	_, h, c := realDaemon(t, session.Config{})
	dir := t.TempDir()
	if _, err := c.AddCategory(context.Background(), session.Category{Name: "iso", SavePath: dir}); err != nil {
		t.Fatal(err)
	}
	ctype, body := multipartFiles(t, map[string]string{"category": "iso", "tags": "a, b,,a", "paused": "true"},
		[]struct{ field, data string }{{"torrents", string(torrentBytes(t, "mp"))}})
	w := serve(t, h, reqSpec{method: "POST", path: "/api/v1/torrents", ctype: ctype, body: body})
	var st session.Status
	if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &st) != nil {
		t.Fatalf("multipart add: %d %s", w.Code, w.Body.String())
	}
	if st.Category != "iso" || st.SaveDir != dir || !slices.Equal(st.Tags, []string{"a", "b"}) {
		t.Errorf("multipart add: %+v", st)
	}
	w = serve(t, h, reqSpec{method: "POST", path: "/api/v1/torrents?paused=true&category=iso&tag=x&tag=y", ctype: contentTorrent, body: string(torrentBytes(t, "raw"))})
	if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &st) != nil {
		t.Fatalf("raw add: %d %s", w.Code, w.Body.String())
	}
	if st.Category != "iso" || !slices.Equal(st.Tags, []string{"x", "y"}) {
		t.Errorf("raw add: %+v", st)
	}
}
