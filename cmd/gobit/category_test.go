package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/api"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
)

// startRealDaemon serves the API over a real session (no peer listener,
// discovery off) and returns it and the API's address.
func startRealDaemon(t *testing.T, cfg session.Config) (*session.Session, string) {
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
	srv := httptest.NewServer(api.NewHandler(s, api.Options{}))
	t.Cleanup(srv.Close)
	return s, strings.TrimPrefix(srv.URL, "http://")
}

// smallTorrent writes a distinct .torrent file and returns its path and
// info hash.
func smallTorrent(t *testing.T, name string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.Repeat(name, 3000)), 0o644); err != nil {
		t.Fatal(err)
	}
	data, mi, err := metainfo.Create(metainfo.CreateOptions{Path: p})
	if err != nil {
		t.Fatal(err)
	}
	tp := filepath.Join(dir, name+".torrent")
	if err := os.WriteFile(tp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return tp, mi.InfoHash.String()
}

// lsJSON runs gobit ls --json with extra args and returns the torrents.
func lsJSON(t *testing.T, addr string, args ...string) []session.Status {
	t.Helper()
	out, errOut, code := gobit(t, append([]string{"ls", "--addr", addr, "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("ls %v: exit %d: %s", args, code, errOut)
	}
	var l []session.Status
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("ls --json: %v: %s", err, out)
	}
	return l
}

func TestCategoryAndTagCommands(t *testing.T) {
	clearEnv(t)
	_, addr := startRealDaemon(t, session.Config{DataDir: t.TempDir()})
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := gobit(t, append(args, "--addr", addr)...)
		if code != 0 {
			t.Fatalf("gobit %v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	out := run("category", "ls")
	mustContain(t, "empty category ls", out, "no categories")

	// A relative save path is made absolute on the client's side.
	wd, _ := os.Getwd()
	tmp := t.TempDir()
	t.Chdir(tmp)
	out = run("category", "add", "movies", "films-dir")
	t.Chdir(wd)
	movies := filepath.Join(tmp, "films-dir")
	mustContain(t, "category add", out, "created category movies ("+movies+")")
	_, errOut, code := gobit(t, "category", "add", "movies", "/x", "--addr", addr)
	if code != exitFailure || !strings.Contains(errOut, "already exists") {
		t.Errorf("duplicate category: exit %d %q", code, errOut)
	}

	a, hashA := smallTorrent(t, "alpha")
	b, hashB := smallTorrent(t, "beta")
	run("add", "--paused", "--category", "movies", "--tag", "hd,new", a)
	run("add", "--paused", b)
	l := lsJSON(t, addr, "--category", "movies")
	if len(l) != 1 || l[0].InfoHash != hashA || l[0].SaveDir != movies || !slices.Equal(l[0].Tags, []string{"hd", "new"}) {
		t.Fatalf("ls --category movies: %+v", l)
	}
	if l := lsJSON(t, addr, "--category", ""); len(l) != 1 || l[0].InfoHash != hashB {
		t.Errorf("ls --category '': %+v", l)
	}

	out = run("category", "set", "movies", hashB[:8])
	mustContain(t, "category set", out, "categorized "+hashB)
	out = run("tag", "add", "hd,old", hashB[:8])
	mustContain(t, "tag add", out, "tagged "+hashB)
	run("tag", "rm", "old", hashB)
	if l := lsJSON(t, addr, "--tag", "hd", "--category", "movies"); len(l) != 2 {
		t.Errorf("ls --tag hd --category movies: %d torrents", len(l))
	}
	out = run("ls")
	mustContain(t, "ls with labels", out, "CATEGORY", "TAGS", "movies", "hd,new")
	out = run("tag", "ls")
	mustContain(t, "tag ls", out, "TAG", "hd", "2", "new")
	if strings.Contains(out, "old") {
		t.Errorf("removed tag listed:\n%s", out)
	}
	run("tag", "rename", "hd", "1080p")
	run("tag", "delete", "new")
	run("category", "rename", "movies", "films")
	run("category", "path", "films", "/srv/films")
	out = run("category", "ls")
	mustContain(t, "category ls", out, "films", "/srv/films")
	out = run("show", hashA)
	mustContain(t, "show", out, "Category:", "films", "tags: 1080p")
	if l := lsJSON(t, addr, "--tag", "1080p"); len(l) != 2 || l[0].Category != "films" {
		t.Errorf("after renames: %+v", l)
	}
	run("category", "rm", "films")
	if l := lsJSON(t, addr, "--category", ""); len(l) != 2 {
		t.Errorf("after deleting the category: %d torrents in none", len(l))
	}
	_, errOut, code = gobit(t, "category", "set", "ghost", hashA, "--addr", addr)
	if code != exitFailure || !strings.Contains(errOut, `category "ghost" does not exist`) {
		t.Errorf("set to an unknown category: exit %d %q", code, errOut)
	}
}

func TestQueueCommands(t *testing.T) {
	clearEnv(t)
	s, addr := startRealDaemon(t, session.Config{MaxActiveDownloads: 1, QueueInterval: 20 * time.Millisecond, StallTimeout: time.Hour})
	p1, h1 := smallTorrent(t, "first")
	p2, h2 := smallTorrent(t, "second")
	for _, p := range []string{p1, p2} {
		if _, errOut, code := gobit(t, "add", "--addr", addr, p); code != 0 {
			t.Fatal(errOut)
		}
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
	wait("second queued", func() bool { return state(h2) == session.StateQueued })
	out, _, _ := gobit(t, "ls", "--addr", addr)
	mustContain(t, "ls", out, "queued")

	out, errOut, code := gobit(t, "queue", h2[:8], "top", "--addr", addr)
	if code != 0 {
		t.Fatalf("queue: %d %s", code, errOut)
	}
	mustContain(t, "queue", out, "moved "+h2+" top")
	wait("second running", func() bool { return state(h2) == session.StateDownloading && state(h1) == session.StateQueued })
	if l := lsJSON(t, addr); l[0].InfoHash != h2 {
		t.Errorf("ls not in queue order")
	}
	_, errOut, code = gobit(t, "queue", h2, "sideways", "--addr", addr)
	if code != exitUsage || !strings.Contains(errOut, "top, up, down or bottom") {
		t.Errorf("bad move: exit %d %q", code, errOut)
	}

	if _, errOut, code := gobit(t, "resume", "--force", h1, "--addr", addr); code != 0 {
		t.Fatal(errOut)
	}
	wait("forced first running", func() bool { return state(h1) == session.StateDownloading })
	if l := lsJSON(t, addr); !l[1].Forced {
		t.Errorf("first not forced: %+v", l[1])
	}
}

func TestServeAutomationFlags(t *testing.T) {
	var o automationOptions
	o.onCompleteTimeout = time.Minute
	o.maxActive = -1
	var cfg session.Config
	if err := o.apply(&cfg); err == nil || !strings.Contains(err.Error(), "--max-active -1") {
		t.Errorf("negative limit: %v", err)
	}
	o = automationOptions{maxDownloads: 3, maxSeeds: 2, maxActive: 4, watchDir: "w", onComplete: "bin/done.sh", onCompleteTimeout: time.Minute}
	if err := o.apply(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.MaxActiveDownloads != 3 || cfg.MaxActiveSeeds != 2 || cfg.MaxActive != 4 ||
		!filepath.IsAbs(cfg.WatchDir) || !filepath.IsAbs(cfg.OnComplete) || cfg.OnCompleteTimeout != time.Minute {
		t.Errorf("config: %+v", cfg)
	}
	o.onComplete = "notify-send"
	if err := o.apply(&cfg); err != nil || cfg.OnComplete != "notify-send" {
		t.Errorf("bare program name: %q %v", cfg.OnComplete, err)
	}
}
