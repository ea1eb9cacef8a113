package api

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/api/apitest"
	"github.com/gobit/gobit/internal/session"
)

// multipartFiles builds a multipart body with the given fields and one file
// part per entry of files, each under its own field name.
func multipartFiles(t *testing.T, fields map[string]string, files []struct{ field, data string }) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for i, f := range files {
		fw, err := mw.CreateFormFile(f.field, strings.Repeat("x", i+1)+".torrent")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(f.data))
	}
	mw.Close()
	return mw.FormDataContentType(), buf.String()
}

type filePart = struct{ field, data string }

func TestAddPaused(t *testing.T) {
	const tor = "d4:infod4:name1:xee"
	mpFieldCT, mpField := multipartFiles(t, map[string]string{"paused": "true"}, []filePart{{"torrent", tor}})
	mpPlainCT, mpPlain := multipartFiles(t, nil, []filePart{{"torrent", tor}})
	mpBadCT, mpBad := multipartFiles(t, map[string]string{"paused": "yes please"}, []filePart{{"torrent", tor}})
	tests := []struct {
		name   string
		rs     reqSpec
		status int
		paused bool
	}{
		{"json paused", reqSpec{ctype: "application/json", body: `{"uri":"` + magnetA + `","paused":true}`}, 201, true},
		{"json not paused", reqSpec{ctype: "application/json", body: `{"uri":"` + magnetA + `","paused":false}`}, 201, false},
		{"json default", reqSpec{ctype: "application/json", body: `{"uri":"` + magnetA + `"}`}, 201, false},
		{"raw with query", reqSpec{path: "/api/v1/torrents?paused=true", ctype: "application/x-bittorrent", body: tor}, 201, true},
		{"text with query 1", reqSpec{path: "/api/v1/torrents?paused=1", ctype: "text/plain", body: magnetA}, 201, true},
		{"raw query false", reqSpec{path: "/api/v1/torrents?paused=false", ctype: "application/x-bittorrent", body: tor}, 201, false},
		{"multipart field", reqSpec{ctype: mpFieldCT, body: mpField}, 201, true},
		{"multipart query", reqSpec{path: "/api/v1/torrents?paused=true", ctype: mpPlainCT, body: mpPlain}, 201, true},
		{"multipart without", reqSpec{ctype: mpPlainCT, body: mpPlain}, 201, false},
		{"bad query", reqSpec{path: "/api/v1/torrents?paused=maybe", ctype: "text/plain", body: magnetA}, 400, false},
		{"bad field", reqSpec{ctype: mpBadCT, body: mpBad}, 400, false},
		{"json wrong type", reqSpec{ctype: "application/json", body: `{"uri":"` + magnetA + `","paused":"yes"}`}, 400, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := apitest.New()
			h := NewHandler(fb, Options{})
			tt.rs.method = "POST"
			if tt.rs.path == "" {
				tt.rs.path = "/api/v1/torrents"
			}
			w := serve(t, h, tt.rs)
			if tt.status != 201 {
				msg := errorOf(t, w, tt.status)
				if len(fb.Adds) != 0 {
					t.Errorf("rejected request reached the backend: %+v", fb.Adds)
				}
				if !strings.Contains(msg, "paused") {
					t.Errorf("message %q does not name the field", msg)
				}
				return
			}
			if w.Code != 201 {
				t.Fatalf("status %d: %s", w.Code, w.Body.String())
			}
			if got := fb.LastAdd().Paused; got != tt.paused {
				t.Errorf("backend got paused=%v, want %v", got, tt.paused)
			}
			var st session.Status
			if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
				t.Fatal(err)
			}
			if (st.State == session.StatePaused) != tt.paused {
				t.Errorf("answered state %s", st.State)
			}
		})
	}
}

func TestMultipartTorrentsField(t *testing.T) {
	const torA, torB, torC = "d4:infod4:name1:aee", "d4:infod4:name1:bee", "d4:infod4:name1:cee"

	// qBittorrent's field name, one file: answered like any single add.
	ct, body := multipartFiles(t, nil, []filePart{{"torrents", torA}})
	fb := apitest.New()
	h := NewHandler(fb, Options{})
	w := serve(t, h, reqSpec{method: "POST", path: "/api/v1/torrents", ctype: ct, body: body})
	if w.Code != 201 || len(fb.Adds) != 1 || string(fb.Adds[0].Torrent) != torA {
		t.Fatalf("one file as \"torrents\": %d %s; backend got %+v", w.Code, w.Body.String(), fb.Adds)
	}
	var one session.Status
	if err := json.Unmarshal(w.Body.Bytes(), &one); err != nil || one.InfoHash == "" {
		t.Fatalf("single add answered %s", w.Body.String())
	}

	// Several files under either name: each is added with the request's
	// directory and paused flag; the answer lists them in order.
	ct, body = multipartFiles(t, map[string]string{"download_dir": "/data/many", "paused": "true"},
		[]filePart{{"torrents", torA}, {"torrents", torB}, {"torrent", torC}})
	fb = apitest.New()
	h = NewHandler(fb, Options{})
	w = serve(t, h, reqSpec{method: "POST", path: "/api/v1/torrents", ctype: ct, body: body})
	if w.Code != 201 {
		t.Fatalf("three files: %d %s", w.Code, w.Body.String())
	}
	var many []session.Status
	if err := json.Unmarshal(w.Body.Bytes(), &many); err != nil || len(many) != 3 {
		t.Fatalf("three files answered %s (%v)", w.Body.String(), err)
	}
	for i, want := range []string{torA, torB, torC} {
		// The files are added concurrently: the backend sees them in any order.
		j := slices.IndexFunc(fb.Adds, func(a session.AddRequest) bool { return string(a.Torrent) == want })
		if j < 0 {
			t.Fatalf("file %d never reached the backend", i)
		}
		if got := fb.Adds[j]; got.DownloadDir != "/data/many" || !got.Paused {
			t.Errorf("add %d: %+v", i, got)
		}
		if many[i].Name != "from-file" || many[i].InfoHash != hashOfFile(want) {
			t.Errorf("status %d is not file %d's: %+v", i, i, many[i])
		}
		if many[i].State != session.StatePaused || many[i].SaveDir != "/data/many" {
			t.Errorf("status %d: %+v", i, many[i])
		}
	}
	if many[0].InfoHash == many[1].InfoHash {
		t.Error("two files answered with one hash")
	}

	// One bad file among good ones: the good ones are added, the answer
	// is the bad one's error and says which file failed.
	ct, body = multipartFiles(t, nil, []filePart{{"torrents", torA}, {"torrents", "garbage"}, {"torrents", torB}})
	fb = apitest.New()
	h = NewHandler(fb, Options{})
	msg := errorOf(t, serve(t, h, reqSpec{method: "POST", path: "/api/v1/torrents", ctype: ct, body: body}), 400)
	if !strings.Contains(msg, "file 2") || !strings.Contains(msg, "2 of 3") {
		t.Errorf("message %q", msg)
	}
	if n := len(fb.List()); n != 2 {
		t.Errorf("%d torrents added, want the 2 good ones", n)
	}

	// A file and a uri together are refused, as for a single file.
	ct, body = multipartFiles(t, map[string]string{"uri": magnetA}, []filePart{{"torrents", torA}, {"torrents", torB}})
	fb = apitest.New()
	errorOf(t, serve(t, NewHandler(fb, Options{}), reqSpec{method: "POST", path: "/api/v1/torrents", ctype: ct, body: body}), 400)
	if len(fb.Adds) != 0 {
		t.Errorf("uri plus files reached the backend: %d adds", len(fb.Adds))
	}

	// The number of files per upload is bounded.
	parts := make([]filePart, maxTorrentsPerUpload+1)
	for i := range parts {
		parts[i] = filePart{"torrents", torA}
	}
	ct, body = multipartFiles(t, nil, parts)
	fb = apitest.New()
	errorOf(t, serve(t, NewHandler(fb, Options{}), reqSpec{method: "POST", path: "/api/v1/torrents", ctype: ct, body: body}), 400)
	if len(fb.Adds) != 0 {
		t.Errorf("an upload over the file limit reached the backend: %d adds", len(fb.Adds))
	}
}

// hashOfFile is the info hash the fake backend gives a .torrent's bytes.
func hashOfFile(data string) string {
	sum := sha1.Sum([]byte(data))
	return hex.EncodeToString(sum[:])
}

// TestAddBatchOfSmallTorrents uploads 1,000 small .torrent files in one
// multipart request to a real session, within the default body cap: every
// one is added, in the order of the files.
func TestAddBatchOfSmallTorrents(t *testing.T) {
	s, err := session.New(session.Config{DownloadDir: t.TempDir(), DataDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv := httptest.NewServer(NewHandler(s, Options{}))
	t.Cleanup(srv.Close)
	const n = maxTorrentsPerUpload
	parts := make([]filePart, n)
	for i := range parts {
		name := fmt.Sprintf("small-%04d.bin", i)
		pieces := sha1.Sum([]byte(name))
		announce := fmt.Sprintf("http://127.0.0.1:1/announce/%04d", i)
		parts[i] = filePart{"torrents", fmt.Sprintf("d8:announce%d:%s4:infod6:lengthi16384e4:name%d:%s12:piece lengthi16384e6:pieces20:%see",
			len(announce), announce, len(name), name, pieces[:])}
	}
	ct, body := multipartFiles(t, nil, parts)
	if len(body) > DefaultMaxBodyBytes {
		t.Fatalf("test body %d bytes over the cap", len(body))
	}
	resp, err := srv.Client().Post(srv.URL+"/api/v1/torrents", ct, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var sts []session.Status
	if err := json.Unmarshal(raw, &sts); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload of %d files: %s, %v: %.300s", n, resp.Status, err, raw)
	}
	if len(sts) != n {
		t.Fatalf("%d statuses, want %d", len(sts), n)
	}
	for i, st := range sts {
		if want := fmt.Sprintf("small-%04d.bin", i); st.Name != want {
			t.Fatalf("status %d is %q, want %q", i, st.Name, want)
		}
	}
	if got := len(s.List()); got != n {
		t.Fatalf("session lists %d torrents, want %d", got, n)
	}
}
