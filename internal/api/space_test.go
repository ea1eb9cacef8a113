package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/diskio"
	"github.com/gobit/gobit/internal/session"
)

// closeTo reports whether two free-space readings of one file system agree
// (other processes write meanwhile).
func closeTo(a, b uint64) bool {
	d := a - b
	if b > a {
		d = b - a
	}
	return d <= 256<<20
}

func TestSessionFreeSpace(t *testing.T) {
	srv, _ := newRealServer(t)
	var info SessionInfo
	if code := doJSON(t, http.MethodGet, srv.URL+"/api/v1/session", "", &info); code != http.StatusOK {
		t.Fatalf("GET /api/v1/session: %d", code)
	}
	free, total, err := diskio.FreeSpace(info.DownloadDir)
	if err != nil {
		t.Fatal(err)
	}
	if info.TotalSpace != total || !closeTo(info.FreeSpace, free) || info.FreeSpace == 0 || info.FreeSpaceError != "" {
		t.Errorf("session: free %d of %d (%q), want about %d of %d", info.FreeSpace, info.TotalSpace, info.FreeSpaceError, free, total)
	}
	// PATCH answers the same object.
	var after SessionInfo
	if code := doJSON(t, http.MethodPatch, srv.URL+"/api/v1/session", `{"upload_limit": 1024}`, &after); code != http.StatusOK {
		t.Fatalf("PATCH: %d", code)
	}
	if after.TotalSpace != total || after.UploadLimit != 1024 || after.DownloadDir != info.DownloadDir {
		t.Errorf("PATCH answer %+v", after)
	}
	// The raw answer has the fields docs/api.md names.
	var raw map[string]any
	doJSON(t, http.MethodGet, srv.URL+"/api/v1/session", "", &raw)
	for _, k := range []string{"free_space", "total_space", "download_dir", "upload_limit"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("GET /api/v1/session lacks %q: %v", k, raw)
		}
	}
}

func TestSessionFreeSpaceError(t *testing.T) {
	// A file where a directory should be: the space cannot be read.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(file, "downloads")
	info := sessionInfo(sessionSettingsWithDir(bad))
	if info.FreeSpace != 0 || info.TotalSpace != 0 || !strings.Contains(info.FreeSpaceError, bad) ||
		!strings.Contains(info.FreeSpaceError, "not a directory") {
		t.Errorf("a file in the way: %+v, want an error naming %s", info, bad)
	}
	info = sessionInfo(sessionSettingsWithDir(""))
	if info.FreeSpace != 0 || info.FreeSpaceError != "" {
		t.Errorf("no directory: %+v", info)
	}
}

func TestFreeSpaceRoute(t *testing.T) {
	srv, _ := newRealServer(t)
	dir := t.TempDir()
	get := func(q string, out any) int {
		t.Helper()
		return doJSON(t, http.MethodGet, srv.URL+"/api/v1/free-space"+q, "", out)
	}
	free, total, err := diskio.FreeSpace(dir)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var fb FreeSpaceBody
	if code := get("?path="+url.QueryEscape(dir), &fb); code != http.StatusOK {
		t.Fatalf("free-space of %s: %d", dir, code)
	}
	if fb.Path != dir || fb.TotalSpace != total || !closeTo(fb.FreeSpace, free) || fb.FreeSpace > fb.TotalSpace {
		t.Errorf("free-space %+v, want %s: about %d of %d", fb, dir, free, total)
	}
	// A directory not created yet is measured at its nearest parent.
	missing := filepath.Join(dir, "not", "yet", "there")
	fb = FreeSpaceBody{}
	if code := get("?path="+url.QueryEscape(missing+"/"), &fb); code != http.StatusOK || fb.Path != missing || fb.TotalSpace != total {
		t.Errorf("free-space of a missing directory: %d %+v", code, fb)
	}
	for _, c := range []struct{ q, want string }{
		{"", "missing ?path="},
		{"?path=", "missing ?path="},
		{"?path=relative/dir", "must be an absolute path"},
		{"?path=" + url.QueryEscape("./x"), "must be an absolute path"},
		{"?path=" + url.QueryEscape("/tmp/a\x00b"), "NUL"},
		{"?path=" + url.QueryEscape(file+"/sub"), "not a directory"},
	} {
		var e ErrorBody
		if code := get(c.q, &e); code != http.StatusBadRequest || !strings.Contains(e.Error, c.want) {
			t.Errorf("free-space%s: %d %q, want 400 with %q", c.q, code, e.Error, c.want)
		}
	}
	var e ErrorBody
	if code := doJSON(t, http.MethodPost, srv.URL+"/api/v1/free-space?path=/", "", &e); code != http.StatusMethodNotAllowed {
		t.Errorf("POST free-space: %d", code)
	}
}

func TestFreeSpaceNeedsToken(t *testing.T) {
	f := newTicketFixture(t)
	w := serve(t, f.hd, reqSpec{method: "GET", path: "/api/v1/free-space?path=/"})
	errorOf(t, w, http.StatusUnauthorized)
	w = serve(t, f.hd, reqSpec{method: "GET", path: "/api/v1/free-space?path=/", headers: f.authHdr})
	var fb FreeSpaceBody
	if err := json.Unmarshal(w.Body.Bytes(), &fb); w.Code != http.StatusOK || err != nil || fb.TotalSpace == 0 {
		t.Errorf("free-space with the token: %d %s", w.Code, w.Body.String())
	}
}

func sessionSettingsWithDir(dir string) session.Settings { return session.Settings{DownloadDir: dir} }
