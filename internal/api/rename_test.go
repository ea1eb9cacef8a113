package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/api/apitest"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

func TestRenameRoutes(t *testing.T) {
	_, base, s, data, hash := newFilesServer(t, "")
	body, _ := json.Marshal(AddBody{Torrent: data})
	if code := doJSON(t, http.MethodPost, base+"/api/v1/torrents", string(body), nil); code != http.StatusCreated {
		t.Fatalf("add: %d", code)
	}
	testutil.WaitFor(t, 10*time.Second, "the check", func() bool {
		d, _ := s.Get(hash)
		return d.State == session.StateSeeding
	})
	dir := s.List()[0].SaveDir
	url := base + "/api/v1/torrents/" + hash

	var d session.Detail
	if code := doJSON(t, http.MethodPatch, url+"/files/1", `{"path": "renamed/B.bin"}`, &d); code != 200 {
		t.Fatalf("rename file: %d", code)
	}
	if d.Files[1].Path != "renamed/B.bin" {
		t.Fatalf("files after the rename: %+v", d.Files)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "renamed", "B.bin")); err != nil || !bytes.Equal(b, bytes.Repeat([]byte("b"), 64<<10)) {
		t.Fatalf("renamed file on disk: %v", err)
	}
	if code := doJSON(t, http.MethodPost, url+"/rename", `{"from": "multi", "to": "Other Name"}`, &d); code != 200 {
		t.Fatalf("rename folder: %d", code)
	}
	want := []string{"Other Name/a.bin", "renamed/B.bin", "Other Name/c.bin"}
	for i, f := range d.Files {
		if f.Path != want[i] {
			t.Fatalf("files after the folder rename: %+v, want %v", d.Files, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "multi")); !os.IsNotExist(err) {
		t.Errorf("old folder left: %v", err)
	}

	// Display name.
	var st session.Status
	if code := doJSON(t, http.MethodPatch, url, `{"name": "Shown"}`, &st); code != 200 || st.Name != "Shown" || st.OriginalName != "multi" {
		t.Fatalf("display name: %d %+v", code, st)
	}
	var list []session.Status
	doJSON(t, http.MethodGet, base+"/api/v1/torrents", "", &list)
	if len(list) != 1 || list[0].Name != "Shown" || list[0].OriginalName != "multi" {
		t.Fatalf("list: %+v", list)
	}
	if code := doJSON(t, http.MethodPatch, url, `{"name": ""}`, &st); code != 200 || st.Name != "multi" {
		t.Fatalf("display name reset: %d %+v", code, st)
	}
	if code := doJSON(t, http.MethodPatch, url, `{"name": "a\u0001b"}`, nil); code != 400 {
		t.Errorf("control character in a name: %d, want 400", code)
	}

	if err := os.WriteFile(filepath.Join(dir, "taken"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{http.MethodPatch, "/files/0", `{"path": "../escape"}`, 400},
		{http.MethodPatch, "/files/0", `{"path": "/etc/x"}`, 400},
		{http.MethodPatch, "/files/0", `{"path": "a//b"}`, 400},
		{http.MethodPatch, "/files/0", `{"path": ""}`, 400},
		{http.MethodPatch, "/files/0", `{"path": "x", "extra": 1}`, 400},
		{http.MethodPatch, "/files/9", `{"path": "x"}`, 400},
		{http.MethodPatch, "/files/-1", `{"path": "x"}`, 400},
		{http.MethodPatch, "/files/0", `{"path": "taken"}`, 409},
		{http.MethodPatch, "/files/0", `{"path": "renamed/B.bin"}`, 409},
		{http.MethodPost, "/rename", `{"from": "nothing", "to": "x"}`, 400},
		{http.MethodPost, "/rename", `{"from": "Other Name", "to": "../up"}`, 400},
		{http.MethodPost, "/rename", `{"from": "Other Name"}`, 400},
	} {
		var eb ErrorBody
		if code := doJSON(t, c.method, url+c.path, c.body, &eb); code != c.want || eb.Error == "" {
			t.Errorf("%s %s %s: %d %q, want %d", c.method, c.path, c.body, code, eb.Error, c.want)
		}
	}
	if code := doJSON(t, http.MethodPatch, base+"/api/v1/torrents/"+"0123456789012345678901234567890123456789/files/0", `{"path": "x"}`, nil); code != 404 {
		t.Errorf("unknown torrent: %d, want 404", code)
	}
	// Nothing moved by the refused requests.
	d, _ = s.Get(hash)
	for i, f := range d.Files {
		if f.Path != want[i] {
			t.Fatalf("files after refused renames: %+v", d.Files)
		}
	}
}

// TestRenameRoutesNeedRenamer: a backend without renames answers 404.
func TestRenameRoutesNeedRenamer(t *testing.T) {
	// Only the Backend's methods: the fake's renames are hidden.
	srv := httptest.NewServer(NewHandler(struct{ Backend }{apitest.New()}, Options{}))
	defer srv.Close()
	url := srv.URL + "/api/v1/torrents/0123456789012345678901234567890123456789"
	if code := doJSON(t, http.MethodPost, url+"/rename", `{"from": "a", "to": "b"}`, nil); code != 404 {
		t.Errorf("rename on a backend without Renamer: %d, want 404", code)
	}
}
