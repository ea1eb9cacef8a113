package session

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/metainfo"
)

// makeNamedTorrent makes a distinct single-file .torrent.
func makeNamedTorrent(t *testing.T, name string) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(strings.Repeat(name, 5000)), 0o644); err != nil {
		t.Fatal(err)
	}
	data, _, err := metainfo.Create(metainfo.CreateOptions{Path: p})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestCategoriesAndTags(t *testing.T) {
	cfg := Config{DownloadDir: t.TempDir(), DataDir: t.TempDir(), Port: -1}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	ctx := context.Background()
	movies := filepath.Join(t.TempDir(), "movies")

	// Bad input is refused with ErrInvalid; a duplicate with ErrExists.
	for _, c := range []Category{{Name: "", SavePath: movies}, {Name: "a,b", SavePath: movies}, {Name: "m", SavePath: "rel"}} {
		if _, err := s.AddCategory(c); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddCategory(%+v) = %v, want ErrInvalid", c, err)
		}
	}
	if _, err := s.AddCategory(Category{Name: "movies", SavePath: movies + "/"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddCategory(Category{Name: "movies", SavePath: movies}); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate category: %v", err)
	}
	if _, err := s.Add(ctx, AddRequest{Torrent: makeNamedTorrent(t, "x"), Category: "nope", Paused: true}); !errors.Is(err, ErrInvalid) {
		t.Errorf("add to an unknown category: %v", err)
	}

	// Added with a category and no directory: saved in the category's.
	a, err := s.Add(ctx, AddRequest{Torrent: makeNamedTorrent(t, "a"), Category: "movies", Tags: []string{"hd", "hd", "new"}, Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	if a.SaveDir != movies || a.Category != "movies" || !slices.Equal(a.Tags, []string{"hd", "new"}) {
		t.Fatalf("added: dir %q category %q tags %v", a.SaveDir, a.Category, a.Tags)
	}
	if fi, err := os.Stat(movies); err != nil || !fi.IsDir() {
		t.Errorf("category directory not created: %v", err)
	}
	b, err := s.Add(ctx, AddRequest{Torrent: makeNamedTorrent(t, "b"), Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	if b.Category != "" || b.Tags == nil || len(b.Tags) != 0 {
		t.Errorf("plain add: category %q tags %#v", b.Category, b.Tags)
	}

	// Assign: category and tags added/removed in one update.
	cat := "movies"
	st, err := s.UpdateTorrent(b.InfoHash, TorrentUpdate{Category: &cat, AddTags: []string{"old", "hd"}})
	if err != nil || st.Category != "movies" || !slices.Equal(st.Tags, []string{"old", "hd"}) {
		t.Fatalf("assign: %+v %v", st, err)
	}
	st, err = s.UpdateTorrent(b.InfoHash, TorrentUpdate{RemoveTags: []string{"old"}})
	if err != nil || !slices.Equal(st.Tags, []string{"hd"}) {
		t.Fatalf("untag: %v %v", st.Tags, err)
	}
	bad := "ghost"
	if _, err := s.UpdateTorrent(b.InfoHash, TorrentUpdate{Category: &bad}); !errors.Is(err, ErrInvalid) {
		t.Errorf("assign to an unknown category: %v", err)
	}

	// Filter.
	hd := s.ListFiltered(ListFilter{Tags: []string{"hd"}})
	if len(hd) != 2 {
		t.Errorf("tag filter: %d torrents, want 2", len(hd))
	}
	if l := s.ListFiltered(ListFilter{Category: &cat, Tags: []string{"new"}}); len(l) != 1 || l[0].InfoHash != a.InfoHash {
		t.Errorf("category+tag filter: %+v", l)
	}
	none := ""
	if l := s.ListFiltered(ListFilter{Category: &none}); len(l) != 0 {
		t.Errorf("no-category filter: %d torrents", len(l))
	}

	// Rename the category and a tag; both torrents follow.
	films := "films"
	if _, err := s.UpdateCategory("movies", CategoryUpdate{Name: &films}); err != nil {
		t.Fatal(err)
	}
	if err := s.RenameTag("hd", "1080p"); err != nil {
		t.Fatal(err)
	}
	if err := s.RenameTag("absent", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("rename of an absent tag: %v", err)
	}
	if tags := s.Tags(); len(tags) != 2 || tags[0] != (TagInfo{Name: "1080p", Torrents: 2}) || tags[1] != (TagInfo{Name: "new", Torrents: 1}) {
		t.Errorf("tags: %+v", tags)
	}

	// Everything survives a restart.
	s.Close()
	s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cats := s.Categories(); len(cats) != 1 || cats[0] != (Category{Name: "films", SavePath: movies}) {
		t.Fatalf("categories after restart: %+v", cats)
	}
	for _, h := range []string{a.InfoHash, b.InfoHash} {
		d, err := s.Get(h)
		if err != nil {
			t.Fatal(err)
		}
		if d.Category != "films" || !slices.Contains(d.Tags, "1080p") {
			t.Errorf("%s after restart: category %q tags %v", h, d.Category, d.Tags)
		}
	}

	// Deleting the category leaves its torrents without one; deleting a
	// tag takes it off every torrent.
	if err := s.RemoveCategory("films"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveCategory("films"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if err := s.RemoveTag("1080p"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Categories()) != 0 {
		t.Errorf("deleted category came back")
	}
	for _, st := range s.List() {
		if st.Category != "" || slices.Contains(st.Tags, "1080p") {
			t.Errorf("%s after deletes: category %q tags %v", st.InfoHash, st.Category, st.Tags)
		}
	}
}
