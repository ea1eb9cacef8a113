package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckLabel(t *testing.T) {
	good := []string{"movies", "Linux ISOs", "a/b", "ünïcode", strings.Repeat("x", MaxLabelLen)}
	for _, g := range good {
		if err := CheckLabel("tag", g); err != nil {
			t.Errorf("CheckLabel(%q) = %v", g, err)
		}
	}
	bad := []string{"", " lead", "trail ", "a,b", "nl\n", "bell\a", strings.Repeat("x", MaxLabelLen+1), "\xff"}
	for _, b := range bad {
		if err := CheckLabel("tag", b); err == nil {
			t.Errorf("CheckLabel(%q) accepted", b)
		}
	}
	if err := CheckTags([]string{"a", "b", "a"}); err == nil {
		t.Error("duplicate tags accepted")
	}
	many := make([]string, MaxTags+1)
	for i := range many {
		many[i] = strings.Repeat("t", i+1)
	}
	if err := CheckTags(many); err == nil {
		t.Error("too many tags accepted")
	}
}

func TestCategoriesAndLabelsPersist(t *testing.T) {
	path := dbPath(t)
	s := openT(t, path)
	tor := Torrent{InfoHash: [20]byte{1}, Name: "x", SaveDir: "/d", AddedAt: time.Unix(1, 0)}
	if err := s.PutTorrent(tor); err != nil {
		t.Fatal(err)
	}
	// A torrent cannot name a category that does not exist.
	tor.Category = "movies"
	if err := s.ChangeLabels(LabelChange{Torrents: []Torrent{tor}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("torrent in a missing category: %v", err)
	}
	if err := s.ChangeLabels(LabelChange{Put: &Category{Name: "movies", SavePath: "relative"}}); err == nil {
		t.Fatal("relative save path accepted")
	}
	tor.Tags = []string{"hd", "new"}
	tor.Forced = true
	err := s.ChangeLabels(LabelChange{Put: &Category{Name: "movies", SavePath: "/m"}, Torrents: []Torrent{tor}})
	if err != nil {
		t.Fatal(err)
	}
	// Rename in one transaction: the category and its torrent together.
	tor.Category = "films"
	err = s.ChangeLabels(LabelChange{Delete: "movies", Put: &Category{Name: "films", SavePath: "/f"}, Torrents: []Torrent{tor}})
	if err != nil {
		t.Fatal(err)
	}
	// A failing change (unknown torrent) changes nothing.
	ghost := Torrent{InfoHash: [20]byte{9}, SaveDir: "/d"}
	if err := s.ChangeLabels(LabelChange{Delete: "films", Torrents: []Torrent{ghost}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown torrent: %v", err)
	}
	if !s.hasCategory("films") {
		t.Fatal("a failed change deleted the category")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openT(t, path)
	cats, err := s.Categories()
	if err != nil || len(cats) != 1 || cats[0] != (Category{Name: "films", SavePath: "/f"}) {
		t.Fatalf("categories after reopen: %+v, %v", cats, err)
	}
	got, ok, err := s.Torrent(tor.InfoHash)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if got.Category != "films" || strings.Join(got.Tags, ",") != "hd,new" || !got.Forced {
		t.Errorf("torrent after reopen: category %q tags %v forced %v", got.Category, got.Tags, got.Forced)
	}
}

func TestBadTagsRefused(t *testing.T) {
	s := openT(t, dbPath(t))
	tor := Torrent{InfoHash: [20]byte{2}, SaveDir: "/d", Tags: []string{"ok", "bad,tag"}}
	if err := s.PutTorrent(tor); err == nil {
		t.Fatal("a tag with a comma was stored")
	}
}

func TestVersion1DatabaseGainsCategories(t *testing.T) {
	path := dbPath(t)
	orig := migrations
	migrations = orig[:1]
	s := openT(t, path)
	if err := s.PutTorrent(Torrent{InfoHash: [20]byte{3}, SaveDir: "/d"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	migrations = orig
	s = openT(t, path)
	if err := s.ChangeLabels(LabelChange{Put: &Category{Name: "c", SavePath: "/c"}}); err != nil {
		t.Fatalf("after migrating a version-1 database: %v", err)
	}
	if l, err := s.Torrents(); err != nil || len(l) != 1 {
		t.Fatalf("torrents after migration: %v %v", l, err)
	}
}

func TestDamagedLabelsDropped(t *testing.T) {
	key := make([]byte, 20)
	val := []byte(`{"name":"x","save_dir":"/d","category":"bad\u0001cat","tags":["ok","ok","bad,tag",""]}`)
	got, err := decodeTorrent(key, val)
	if err != nil {
		t.Fatalf("a record with damaged labels was refused: %v", err)
	}
	if got.Category != "" || len(got.Tags) != 1 || got.Tags[0] != "ok" {
		t.Errorf("labels: %q %q", got.Category, got.Tags)
	}
}
