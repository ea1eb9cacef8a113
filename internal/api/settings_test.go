package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// newRealServer runs the API over a real session with no peer listener and
// one paused torrent, so nothing reaches the network.
func newRealServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := session.New(session.Config{DownloadDir: dir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := os.WriteFile(filepath.Join(dir, "f.bin"), bytes.Repeat([]byte("x"), 100000), 0o644); err != nil {
		t.Fatal(err)
	}
	data, mi, err := metainfo.Create(metainfo.CreateOptions{Path: filepath.Join(dir, "f.bin")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(context.Background(), session.AddRequest{Torrent: data, Paused: true}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewHandler(s, Options{}))
	t.Cleanup(srv.Close)
	return srv, mi.InfoHash.String()
}

func doJSON(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decode: %v", method, url, err)
		}
	}
	return resp.StatusCode
}

func TestPatchTorrentLimits(t *testing.T) {
	srv, hash := newRealServer(t)
	url := srv.URL + "/api/v1/torrents/" + hash
	var st session.Status
	code := doJSON(t, http.MethodPatch, url, `{"upload_limit": 2097152, "download_limit": 1000, "ratio_limit": 1.5, "seed_time_limit": 3600, "upload_slots": 3}`, &st)
	if code != http.StatusOK {
		t.Fatalf("PATCH: %d", code)
	}
	if st.UploadLimit != 2097152 || st.DownloadLimit != 1000 || st.RatioLimit != 1.5 || st.SeedTimeLimit != 3600 || st.UploadSlots != 3 {
		t.Fatalf("limits not applied: %+v", st)
	}
	// A partial update leaves the other fields alone.
	doJSON(t, http.MethodPatch, url, `{"upload_limit": 0}`, &st)
	if st.UploadLimit != 0 || st.DownloadLimit != 1000 || st.RatioLimit != 1.5 {
		t.Fatalf("partial update: %+v", st)
	}
	var d session.Detail
	doJSON(t, http.MethodGet, url, "", &d)
	if d.DownloadLimit != 1000 || d.SeedTimeLimit != 3600 {
		t.Fatalf("GET after PATCH: %+v", d.Status)
	}
	var e ErrorBody
	for _, bad := range []string{`{"upload_limit": -1}`, `{"ratio_limit": -2}`, `{"upload_slots": -5}`, `{"bogus": 1}`, `not json`} {
		if code := doJSON(t, http.MethodPatch, url, bad, &e); code != http.StatusBadRequest || e.Error == "" {
			t.Errorf("PATCH %s: %d %q, want 400 with an error", bad, code, e.Error)
		}
	}
	if code := doJSON(t, http.MethodPatch, srv.URL+"/api/v1/torrents/"+hash[:39]+"0", `{"upload_limit": 1}`, &e); code != http.StatusNotFound {
		t.Errorf("unknown torrent: %d", code)
	}
}

func TestSessionSettings(t *testing.T) {
	srv, _ := newRealServer(t)
	url := srv.URL + "/api/v1/session"
	var s session.Settings
	if code := doJSON(t, http.MethodGet, url, "", &s); code != http.StatusOK || !filepath.IsAbs(s.DownloadDir) {
		t.Fatalf("GET: %d %+v, want the absolute download directory", code, s)
	}
	dir := s.DownloadDir
	if s != (session.Settings{DownloadDir: dir}) {
		t.Fatalf("GET: %+v, want no limits", s)
	}
	if code := doJSON(t, http.MethodPatch, url, `{"upload_limit": 2097152, "ratio_limit": 2, "seed_time_limit": 60}`, &s); code != http.StatusOK {
		t.Fatalf("PATCH: %d", code)
	}
	want := session.Settings{UploadLimit: 2097152, RatioLimit: 2, SeedTimeLimit: 60, DownloadDir: dir}
	if s != want {
		t.Fatalf("PATCH result %+v, want %+v", s, want)
	}
	doJSON(t, http.MethodGet, url, "", &s)
	if s != want {
		t.Fatalf("GET after PATCH %+v, want %+v", s, want)
	}
	var e ErrorBody
	if code := doJSON(t, http.MethodPatch, url, `{"download_limit": -5}`, &e); code != http.StatusBadRequest {
		t.Errorf("negative limit: %d", code)
	}
}

func TestRecheckAndMoveRoutes(t *testing.T) {
	srv, hash := newRealServer(t)
	url := srv.URL + "/api/v1/torrents/" + hash
	var e ErrorBody
	// The torrent's first check may still run: a recheck then answers 409
	// (busy) until it is done.
	// acceptedOnce posts to path until it answers 204, failing on any
	// answer but 409.
	acceptedOnce := func(path, body string) func() (bool, error) {
		return func() (bool, error) {
			switch code := doJSON(t, http.MethodPost, url+path, body, nil); code {
			case http.StatusNoContent:
				return true, nil
			case http.StatusConflict:
				return false, nil
			default:
				return false, fmt.Errorf("status %d", code)
			}
		}
	}
	testutil.WaitForErr(t, 10*time.Second, "the recheck to be accepted", acceptedOnce("/recheck", ""))
	to := t.TempDir()
	testutil.WaitForErr(t, 10*time.Second, "the move to be accepted", acceptedOnce("/move", `{"path": "`+to+`"}`))
	var d struct {
		SaveDir string `json:"save_dir"`
	}
	doJSON(t, http.MethodGet, url, "", &d)
	if d.SaveDir != to {
		t.Fatalf("save_dir %q after move, want %q", d.SaveDir, to)
	}
	if _, err := os.Stat(filepath.Join(to, "f.bin")); err != nil {
		t.Fatalf("file not moved: %v", err)
	}
	if code := doJSON(t, http.MethodPost, url+"/move", `{}`, &e); code != http.StatusBadRequest {
		t.Errorf("move without path: %d", code)
	}
	if code := doJSON(t, http.MethodPost, srv.URL+"/api/v1/torrents/"+hash[:39]+"0/recheck", "", &e); code != http.StatusNotFound {
		t.Errorf("recheck unknown: %d", code)
	}
}
