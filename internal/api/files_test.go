package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/api/apitest"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// newFilesServer runs the API over a real session (no peer listener) with
// a complete three-file torrent of 32 KiB pieces on disk: a.bin (64 KiB),
// b.bin (64 KiB), c.bin (40000 bytes). It returns the server, the session,
// the .torrent and its info hash.
func newFilesServer(t *testing.T, dataDir string) (*http.Client, string, *session.Session, []byte, string) {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "multi")
	for name, n := range map[string]int{"a.bin": 64 << 10, "b.bin": 64 << 10, "c.bin": 40000} {
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), bytes.Repeat([]byte(name[:1]), n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, mi, err := metainfo.Create(metainfo.CreateOptions{Path: root, PieceLength: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	s, err := session.New(session.Config{DownloadDir: dir, DataDir: dataDir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv := httptest.NewServer(NewHandler(s, Options{}))
	t.Cleanup(srv.Close)
	return srv.Client(), srv.URL, s, data, mi.InfoHash.String()
}

func TestFilesAndPiecesRoutes(t *testing.T) {
	_, base, s, data, hash := newFilesServer(t, "")
	body, _ := json.Marshal(AddBody{Torrent: data, Only: []int{0, 2}, FirstLastPieceFirst: true})
	var st session.Status
	if code := doJSON(t, http.MethodPost, base+"/api/v1/torrents", string(body), &st); code != http.StatusCreated {
		t.Fatalf("add: %d", code)
	}
	if !st.FirstLastPieceFirst || st.Sequential {
		t.Fatalf("added status %+v: want first_last_piece_first only", st)
	}
	url := base + "/api/v1/torrents/" + hash
	// The data is all on disk: once checked the torrent is complete.
	testutil.WaitFor(t, 10*time.Second, "the check", func() bool {
		d, _ := s.Get(hash)
		return d.State == session.StateSeeding
	})
	var d session.Detail
	doJSON(t, http.MethodGet, url, "", &d)
	want := []string{"normal", "skip", "normal"}
	for i, f := range d.Files {
		if f.Index != i || f.Priority != want[i] {
			t.Fatalf("files %+v: want priorities %v", d.Files, want)
		}
	}
	// Object form: only the named files change.
	if code := doJSON(t, http.MethodPatch, url+"/files", `{"priorities": {"1": "high", "2": "low"}}`, &d); code != 200 {
		t.Fatalf("patch object: %d", code)
	}
	want = []string{"normal", "high", "low"}
	for i, f := range d.Files {
		if f.Priority != want[i] {
			t.Fatalf("after object patch files %+v: want %v", d.Files, want)
		}
	}
	// Array form: null leaves a file alone.
	if code := doJSON(t, http.MethodPatch, url+"/files", `{"priorities": ["skip", null, "normal"]}`, &d); code != 200 {
		t.Fatalf("patch array: %d", code)
	}
	want = []string{"skip", "high", "normal"}
	for i, f := range d.Files {
		if f.Priority != want[i] {
			t.Fatalf("after array patch files %+v: want %v", d.Files, want)
		}
	}
	var e ErrorBody
	for _, bad := range []string{
		`{"priorities": {"3": "skip"}}`,
		`{"priorities": {"0": "urgent"}}`,
		`{"priorities": {"x": "skip"}}`,
		`{"priorities": 7}`,
		`{"priorities": {}}`,
		`{}`,
	} {
		if code := doJSON(t, http.MethodPatch, url+"/files", bad, &e); code != http.StatusBadRequest {
			t.Errorf("patch %s: %d, want 400", bad, code)
		}
	}
	doJSON(t, http.MethodGet, url, "", &d)
	if d.Files[0].Priority != "skip" || d.Files[2].Priority != "normal" {
		t.Fatalf("a refused patch changed the files: %+v", d.Files)
	}
	// Piece order through PATCH of the torrent.
	if code := doJSON(t, http.MethodPatch, url, `{"sequential": true, "first_last_piece_first": false}`, &st); code != 200 || !st.Sequential || st.FirstLastPieceFirst {
		t.Fatalf("patch order: %d %+v", code, st)
	}

	// Pieces: 6 pieces (64+64+40000 bytes in 32 KiB), all verified.
	var pm session.PieceMap
	if code := doJSON(t, http.MethodGet, url+"/pieces", "", &pm); code != 200 || pm.Pieces != 6 || !bytes.Equal(pm.Have, []byte{0xfc}) {
		t.Fatalf("pieces: %d %+v, want 6 pieces 0xfc", code, pm)
	}
	var raw map[string]any
	doJSON(t, http.MethodGet, url+"/pieces", "", &raw)
	if raw["have"] != base64.StdEncoding.EncodeToString([]byte{0xfc}) {
		t.Fatalf("have in JSON = %v, want base64 of 0xfc", raw["have"])
	}
	req, _ := http.NewRequest(http.MethodGet, url+"/pieces", nil)
	req.Header.Set("Accept", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "application/octet-stream" || resp.Header.Get("X-Gobit-Pieces") != "6" || !bytes.Equal(b, []byte{0xfc}) {
		t.Fatalf("raw pieces: %v %q", resp.Header, b)
	}
	if code := doJSON(t, http.MethodGet, base+"/api/v1/torrents/"+hash[:39]+"0/pieces", "", &e); code != http.StatusNotFound {
		t.Errorf("pieces of an unknown torrent: %d", code)
	}
}

// TestAddWithBadFiles: file indexes beyond a .torrent's files are refused
// and nothing is added.
func TestAddWithBadFiles(t *testing.T) {
	_, base, s, data, _ := newFilesServer(t, "")
	var e ErrorBody
	for _, ab := range []AddBody{
		{Torrent: data, Only: []int{3}},
		{Torrent: data, Files: map[string]string{"0": "sometimes"}},
		{Torrent: data, Files: map[string]string{"-1": "skip"}},
		{Torrent: data, Files: map[string]string{"5": "skip"}},
	} {
		body, _ := json.Marshal(ab)
		if code := doJSON(t, http.MethodPost, base+"/api/v1/torrents", string(body), &e); code != http.StatusBadRequest {
			t.Errorf("add %+v: %d, want 400", ab.Files, code)
		}
	}
	if l := s.List(); len(l) != 0 {
		t.Fatalf("refused adds left %d torrents", len(l))
	}
}

// TestFilePrioritiesPersist: priorities and piece order come back after a
// restart of the session.
func TestFilePrioritiesPersist(t *testing.T) {
	state := t.TempDir()
	_, _, s, data, hash := newFilesServer(t, state)
	if _, err := s.Add(context.Background(), session.AddRequest{Torrent: data, Files: map[int]string{1: "skip", 2: "high"}, Sequential: true, Paused: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetFilePriorities(hash, map[int]string{0: "low"}); err != nil {
		t.Fatal(err)
	}
	d0, _ := s.Get(hash)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := session.New(session.Config{DownloadDir: d0.SaveDir, DataDir: state, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	d, err := s2.Get(hash)
	if err != nil {
		t.Fatal(err)
	}
	// The file list needs the torrent's loop to have the metadata.
	testutil.WaitFor(t, 10*time.Second, "the file list", func() bool {
		d, _ = s2.Get(hash)
		return len(d.Files) == 3
	})
	want := []string{"low", "skip", "high"}
	for i, f := range d.Files {
		if f.Priority != want[i] {
			t.Fatalf("after restart files %+v: want %v", d.Files, want)
		}
	}
	if !d.Sequential {
		t.Fatal("sequential lost in the restart")
	}
}

// TestStreamRoute: the stream route's ranges, HEAD, types and errors over
// the in-memory backend (the waiting for pieces is tested in swarmtest).
func TestStreamRoute(t *testing.T) {
	fb := apitest.New()
	h := NewHandler(fb, Options{})
	serve(t, h, reqSpec{method: "POST", path: "/add/magnet", ctype: "text/plain", body: magnetA})
	fb.SetDetail(hashA, func(d *session.Detail) {
		d.Files = []session.FileStatus{{Index: 0, Path: "show/clip.MP4", Size: 1000}, {Index: 1, Path: "show/notes", Size: 10}}
	})
	want := bytes.Repeat([]byte("show/clip.MP4"), 1000/13+1)[:1000]
	url := "/api/v1/torrents/" + hashA + "/files/0/stream"
	w := serve(t, h, reqSpec{method: "GET", path: url, headers: map[string]string{"Range": "bytes=990-"}})
	if w.Code != 206 || !bytes.Equal(w.Body.Bytes(), want[990:]) || w.Header().Get("Content-Range") != "bytes 990-999/1000" {
		t.Fatalf("range: %d %q %v", w.Code, w.Body.Bytes(), w.Header())
	}
	if ct := w.Header().Get("Content-Type"); ct != "video/mp4" {
		t.Errorf("Content-Type %q, want video/mp4", ct)
	}
	w = serve(t, h, reqSpec{method: "HEAD", path: url})
	if w.Code != 200 || w.Header().Get("Content-Length") != "1000" || w.Body.Len() != 0 || w.Header().Get("Accept-Ranges") != "bytes" {
		t.Fatalf("HEAD: %d %v %d bytes", w.Code, w.Header(), w.Body.Len())
	}
	w = serve(t, h, reqSpec{method: "GET", path: url, headers: map[string]string{"Range": "bytes=2000-"}})
	if w.Code != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("range past the end: %d", w.Code)
	}
	w = serve(t, h, reqSpec{method: "GET", path: url, headers: map[string]string{"If-None-Match": `"` + hashA + `-0"`}})
	if w.Code != http.StatusNotModified {
		t.Fatalf("If-None-Match with the ETag: %d", w.Code)
	}
	w = serve(t, h, reqSpec{method: "GET", path: "/api/v1/torrents/" + hashA + "/files/1/stream"})
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/octet-stream" || w.Body.Len() != 10 {
		t.Fatalf("file without extension: %d %v", w.Code, w.Header())
	}
	errorOf(t, serve(t, h, reqSpec{method: "GET", path: "/api/v1/torrents/" + hashA + "/files/2/stream"}), 404)
	errorOf(t, serve(t, h, reqSpec{method: "GET", path: "/api/v1/torrents/" + hashA + "/files/-1/stream"}), 400)
	errorOf(t, serve(t, h, reqSpec{method: "GET", path: "/api/v1/torrents/" + hashB + "/files/0/stream"}), 404)
	errorOf(t, serve(t, h, reqSpec{method: "POST", path: url}), 405)
}
