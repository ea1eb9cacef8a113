package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/gobit/gobit/internal/api/apitest"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

const (
	hashA   = "0123456789abcdef0123456789abcdef01234567"
	magnetA = "magnet:?xt=urn:btih:" + hashA + "&dn=ubuntu.iso&tr=udp%3A%2F%2Ftracker.example%3A1337"
	hashB   = "89abcdef0123456789abcdef0123456789abcdef"
	magnetB = "magnet:?xt=urn:btih:89ABCDEF0123456789ABCDEF0123456789ABCDEF"
)

type reqSpec struct {
	method, path, ctype string
	body                string
	headers             map[string]string
	chunked             bool // hide the length so only MaxBytesReader can catch it
}

func serve(t *testing.T, h http.Handler, rs reqSpec) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader = strings.NewReader(rs.body)
	if rs.chunked {
		body = io.MultiReader(strings.NewReader(rs.body)) // unknown length
	}
	r := httptest.NewRequest(rs.method, rs.path, body)
	r.Host = "localhost:8080" // httptest's example.com fails the Host check
	if rs.chunked {
		r.ContentLength = -1
	}
	if rs.ctype != "" {
		r.Header.Set("Content-Type", rs.ctype)
	}
	for k, v := range rs.headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// errorOf asserts the response is a JSON error with the given status and
// returns its message.
func errorOf(t *testing.T, w *httptest.ResponseRecorder, status int) string {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %q", w.Code, status, w.Body.String())
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error Content-Type = %q, want application/json", ct)
	}
	var eb ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || eb.Error == "" {
		t.Fatalf("error body %q is not {\"error\": ...}: %v", w.Body.String(), err)
	}
	return eb.Error
}

func TestCompatAddMagnet(t *testing.T) {
	tests := []struct {
		name       string
		ctype      string
		body       string
		wantStatus int
		wantURI    string
	}{
		{"curl exact", "text/plain", magnetA, 200, magnetA},
		{"trailing newline", "text/plain", magnetA + "\n", 200, magnetA},
		{"crlf and spaces", "text/plain; charset=utf-8", "  " + magnetA + "\r\n\r\n", 200, magnetA},
		{"curl default form type", "application/x-www-form-urlencoded", magnetA, 200, magnetA},
		{"no content type", "", magnetA, 200, magnetA},
		{"json refused", "application/json", `{"uri":"` + magnetA + `"}`, 415, ""},
		{"empty body", "text/plain", " \n", 400, ""},
		{"bad magnet", "text/plain", "magnet:?xt=urn:btih:nothex", 400, ""},
		{"malformed content type", "text/plain; ===", magnetA, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := apitest.New()
			h := NewHandler(fb, Options{})
			w := serve(t, h, reqSpec{method: "POST", path: "/add/magnet", ctype: tt.ctype, body: tt.body})
			if tt.wantStatus != 200 {
				errorOf(t, w, tt.wantStatus)
				return
			}
			if w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body.String())
			}
			if got := fb.LastAdd().URI; got != tt.wantURI {
				t.Errorf("backend got URI %q, want %q", got, tt.wantURI)
			}
			if !strings.Contains(w.Body.String(), hashA) || !strings.Contains(w.Body.String(), "ubuntu.iso") {
				t.Errorf("body %q lacks hash and name", w.Body.String())
			}
		})
	}
}

func TestCompatAddMagnetDuplicateIs409(t *testing.T) {
	h := NewHandler(apitest.New(), Options{})
	rs := reqSpec{method: "POST", path: "/add/magnet", ctype: "text/plain", body: magnetA}
	if w := serve(t, h, rs); w.Code != 200 {
		t.Fatalf("first add: %d", w.Code)
	}
	errorOf(t, serve(t, h, rs), http.StatusConflict)
}

// TestCompatRawCurlBytes sends the request exactly as curl writes it on the
// wire, over a real socket, with and without a trailing newline.
func TestCompatRawCurlBytes(t *testing.T) {
	for _, body := range []string{magnetA, magnetA + "\n"} {
		fb := apitest.New()
		srv := httptest.NewServer(NewHandler(fb, Options{}))
		conn, err := net.DialTimeout("tcp", srv.Listener.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		raw := "POST /add/magnet HTTP/1.1\r\n" +
			"Host: localhost:8080\r\n" +
			"User-Agent: curl/8.5.0\r\n" +
			"Accept: */*\r\n" +
			"Content-Type: text/plain\r\n" +
			fmt.Sprintf("Content-Length: %d\r\n", len(body)) +
			"\r\n" + body
		if _, err := io.WriteString(conn, raw); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		conn.Close()
		srv.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("body %q: status %d: %s", body, resp.StatusCode, got)
		}
		if fb.LastAdd().URI != magnetA {
			t.Errorf("backend got %q", fb.LastAdd().URI)
		}
	}
}

// TestCompatRealCurl runs the original README's command word for word
// (with the test server's port).
func TestCompatRealCurl(t *testing.T) {
	curl := testutil.NeedProgram(t, "curl", "curl")
	fb := apitest.New()
	srv := httptest.NewServer(NewHandler(fb, Options{}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	out, err := exec.Command(curl, "--silent", "--show-error", "--max-time", "10", "--noproxy", "*",
		"--location", "localhost:"+port+"/add/magnet",
		"--header", "Content-Type: text/plain",
		"--data", magnetA).CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v: %s", err, out)
	}
	if fb.LastAdd().URI != magnetA {
		t.Fatalf("backend got %q; curl printed %q", fb.LastAdd().URI, out)
	}
	if !strings.Contains(string(out), hashA) {
		t.Errorf("curl printed %q, want the info hash", out)
	}
}

func multipartBody(t *testing.T, fields map[string]string, file []byte) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if file != nil {
		fw, err := mw.CreateFormFile("torrent", "x.torrent")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(file)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.String()
}

func TestAddTorrent(t *testing.T) {
	torrentBytes := "d4:infod4:name1:xee"
	mpFileCT, mpFile := multipartBody(t, map[string]string{"download_dir": "/data/mp"}, []byte(torrentBytes))
	mpURICT, mpURI := multipartBody(t, map[string]string{"uri": magnetA}, nil)
	tests := []struct {
		name       string
		rs         reqSpec
		wantStatus int
		want       session.AddRequest
	}{
		{"json magnet", reqSpec{ctype: "application/json", body: `{"uri":"` + magnetA + `"}`}, 201,
			session.AddRequest{URI: magnetA}},
		{"json url with dir", reqSpec{ctype: "application/json; charset=utf-8",
			body: `{"uri":" https://example.org/x.torrent\n","download_dir":"/data/x"}`}, 201,
			session.AddRequest{URI: "https://example.org/x.torrent", DownloadDir: "/data/x"}},
		{"json base64 torrent", reqSpec{ctype: "application/json", body: `{"torrent":"ZDQ6aW5mb2Q0Om5hbWUxOnhlZQ=="}`}, 201,
			session.AddRequest{Torrent: []byte(torrentBytes)}},
		{"raw torrent", reqSpec{ctype: "application/x-bittorrent", body: torrentBytes}, 201,
			session.AddRequest{Torrent: []byte(torrentBytes)}},
		{"raw torrent with dir query", reqSpec{path: "/api/v1/torrents?download_dir=%2Fdata%2Fq", ctype: "application/x-bittorrent", body: torrentBytes}, 201,
			session.AddRequest{Torrent: []byte(torrentBytes), DownloadDir: "/data/q"}},
		{"multipart file", reqSpec{ctype: mpFileCT, body: mpFile}, 201,
			session.AddRequest{Torrent: []byte(torrentBytes), DownloadDir: "/data/mp"}},
		{"multipart uri", reqSpec{ctype: mpURICT, body: mpURI}, 201, session.AddRequest{URI: magnetA}},
		{"text uri", reqSpec{ctype: "text/plain", body: magnetA + "\n"}, 201, session.AddRequest{URI: magnetA}},

		{"json both", reqSpec{ctype: "application/json", body: `{"uri":"` + magnetA + `","torrent":"ZA=="}`}, 400, session.AddRequest{}},
		{"json neither", reqSpec{ctype: "application/json", body: `{}`}, 400, session.AddRequest{}},
		{"json malformed", reqSpec{ctype: "application/json", body: `{"uri":`}, 400, session.AddRequest{}},
		{"json unknown field", reqSpec{ctype: "application/json", body: `{"url":"` + magnetA + `"}`}, 400, session.AddRequest{}},
		{"json trailing data", reqSpec{ctype: "application/json", body: `{"uri":"` + magnetA + `"} {}`}, 400, session.AddRequest{}},
		{"json array", reqSpec{ctype: "application/json", body: `[]`}, 400, session.AddRequest{}},
		{"raw empty", reqSpec{ctype: "application/x-bittorrent", body: ""}, 400, session.AddRequest{}},
		{"backend rejects torrent", reqSpec{ctype: "application/x-bittorrent", body: "garbage"}, 400, session.AddRequest{}},
		{"backend rejects magnet", reqSpec{ctype: "application/json", body: `{"uri":"magnet:?xt=urn:btih:zz"}`}, 400, session.AddRequest{}},
		{"multipart malformed", reqSpec{ctype: "multipart/form-data; boundary=xyz", body: "not multipart"}, 400, session.AddRequest{}},
		{"multipart no boundary", reqSpec{ctype: "multipart/form-data", body: "x"}, 400, session.AddRequest{}},
		{"xml", reqSpec{ctype: "application/xml", body: "<a/>"}, 415, session.AddRequest{}},
		{"no content type", reqSpec{body: `{"uri":"` + magnetA + `"}`}, 415, session.AddRequest{}},
		{"backend internal error", reqSpec{ctype: "application/json", body: `{"uri":"https://boom"}`}, 500, session.AddRequest{}},
		{"backend panic", reqSpec{ctype: "application/json", body: `{"uri":"https://panic"}`}, 500, session.AddRequest{}},
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
			if tt.wantStatus != 201 {
				errorOf(t, w, tt.wantStatus)
				return
			}
			if w.Code != 201 {
				t.Fatalf("status %d: %s", w.Code, w.Body.String())
			}
			got := fb.LastAdd()
			if got.URI != tt.want.URI || string(got.Torrent) != string(tt.want.Torrent) || got.DownloadDir != tt.want.DownloadDir {
				t.Errorf("backend got %+v, want %+v", got, tt.want)
			}
			var st session.Status
			if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil || len(st.InfoHash) != 40 {
				t.Fatalf("body %q is not a Status: %v", w.Body.String(), err)
			}
			if loc := w.Header().Get("Location"); loc != "/api/v1/torrents/"+st.InfoHash {
				t.Errorf("Location = %q", loc)
			}
		})
	}
}

func TestAddDuplicateIs409(t *testing.T) {
	h := NewHandler(apitest.New(), Options{})
	rs := reqSpec{method: "POST", path: "/api/v1/torrents", ctype: "application/json", body: `{"uri":"` + magnetA + `"}`}
	if w := serve(t, h, rs); w.Code != 201 {
		t.Fatalf("first add: %d", w.Code)
	}
	msg := errorOf(t, serve(t, h, rs), http.StatusConflict)
	if !strings.Contains(msg, "already") {
		t.Errorf("message %q does not say already added", msg)
	}
}

func TestListAndGet(t *testing.T) {
	fb := apitest.New()
	h := NewHandler(fb, Options{})
	w := serve(t, h, reqSpec{method: "GET", path: "/api/v1/torrents"})
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != "[]" {
		t.Fatalf("empty list: %d %q, want 200 []", w.Code, w.Body.String())
	}
	fb.NilLists = true
	w = serve(t, h, reqSpec{method: "GET", path: "/api/v1/torrents"})
	if strings.TrimSpace(w.Body.String()) != "[]" {
		t.Fatalf("nil list encoded as %q, want []", w.Body.String())
	}
	fb.NilLists = false

	for _, m := range []string{magnetA, magnetB} {
		serve(t, h, reqSpec{method: "POST", path: "/add/magnet", ctype: "text/plain", body: m})
	}
	w = serve(t, h, reqSpec{method: "GET", path: "/api/v1/torrents"})
	var l []session.Status
	if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil {
		t.Fatal(err)
	}
	if len(l) != 2 || l[0].InfoHash != hashA || l[1].InfoHash != hashB {
		t.Fatalf("list = %+v", l)
	}

	tests := []struct {
		name   string
		path   string
		status int
	}{
		{"lower", "/api/v1/torrents/" + hashA, 200},
		{"upper normalised", "/api/v1/torrents/" + strings.ToUpper(hashA), 200},
		{"unknown", "/api/v1/torrents/" + strings.Repeat("f", 40), 404},
		{"short", "/api/v1/torrents/abc", 400},
		{"long", "/api/v1/torrents/" + hashA + "0", 400},
		{"not hex", "/api/v1/torrents/" + strings.Repeat("g", 40), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(t, h, reqSpec{method: "GET", path: tt.path})
			if tt.status != 200 {
				errorOf(t, w, tt.status)
				return
			}
			var d session.Detail
			if err := json.Unmarshal(w.Body.Bytes(), &d); err != nil {
				t.Fatal(err)
			}
			if d.InfoHash != hashA || len(d.Files) != 1 {
				t.Errorf("detail = %+v", d)
			}
		})
	}

	// Nil slices in a Detail are sent as [] so clients can iterate.
	fb.NilLists = true
	serve(t, h, reqSpec{method: "POST", path: "/add/magnet", body: "magnet:?xt=urn:btih:" + strings.Repeat("c", 40)})
	w = serve(t, h, reqSpec{method: "GET", path: "/api/v1/torrents/" + strings.Repeat("c", 40)})
	if !strings.Contains(w.Body.String(), `"files":[]`) || !strings.Contains(w.Body.String(), `"trackers":[]`) {
		t.Errorf("detail with nil slices encoded as %s", w.Body.String())
	}
}

func TestPauseResumeRemove(t *testing.T) {
	fb := apitest.New()
	h := NewHandler(fb, Options{})
	add := func(m string) {
		if w := serve(t, h, reqSpec{method: "POST", path: "/add/magnet", body: m}); w.Code != 200 {
			t.Fatalf("add: %d", w.Code)
		}
	}
	add(magnetA)
	add(magnetB)
	state := func(hash string) session.State {
		d, err := fb.Get(hash)
		if err != nil {
			return ""
		}
		return d.State
	}
	unknown := "/api/v1/torrents/" + strings.Repeat("e", 40)
	tests := []struct {
		name   string
		method string
		path   string
		status int
		check  func() bool
	}{
		{"pause", "POST", "/api/v1/torrents/" + hashA + "/pause", 204, func() bool { return state(hashA) == session.StatePaused }},
		{"resume upper", "POST", "/api/v1/torrents/" + strings.ToUpper(hashA) + "/resume", 204, func() bool { return state(hashA) == session.StateDownloading }},
		{"pause unknown", "POST", unknown + "/pause", 404, nil},
		{"resume unknown", "POST", unknown + "/resume", 404, nil},
		{"pause bad hash", "POST", "/api/v1/torrents/xyz/pause", 400, nil},
		{"resume bad hash", "POST", "/api/v1/torrents/xyz/resume", 400, nil},
		{"pause with GET", "GET", "/api/v1/torrents/" + hashA + "/pause", 405, nil},
		{"remove bad flag", "DELETE", "/api/v1/torrents/" + hashA + "?delete_data=maybe", 400, func() bool { return state(hashA) != "" }},
		{"remove keep data", "DELETE", "/api/v1/torrents/" + hashA, 204, func() bool {
			del, ok := fb.Removed[hashA]
			return ok && !del && state(hashA) == ""
		}},
		{"remove delete data", "DELETE", "/api/v1/torrents/" + hashB + "?delete_data=true", 204, func() bool { return fb.Removed[hashB] }},
		{"remove again", "DELETE", "/api/v1/torrents/" + hashB, 404, nil},
		{"remove bad hash", "DELETE", "/api/v1/torrents/12345", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(t, h, reqSpec{method: tt.method, path: tt.path})
			if tt.status == 204 {
				if w.Code != 204 || w.Body.Len() != 0 {
					t.Fatalf("status %d body %q, want 204 and no body", w.Code, w.Body.String())
				}
			} else {
				errorOf(t, w, tt.status)
			}
			if tt.check != nil && !tt.check() {
				t.Error("backend state not as expected")
			}
		})
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	h := NewHandler(apitest.New(), Options{})
	errorOf(t, serve(t, h, reqSpec{method: "GET", path: "/nope"}), 404)
	errorOf(t, serve(t, h, reqSpec{method: "GET", path: "/api/v2/torrents"}), 404)
	errorOf(t, serve(t, h, reqSpec{method: "GET", path: "/api/v1/torrents/" + hashA + "/files/x/nope"}), 404)
	// PATCH renames a file: another method there is a 405.
	errorOf(t, serve(t, h, reqSpec{method: "GET", path: "/api/v1/torrents/" + hashA + "/files/x"}), 405)
	w := serve(t, h, reqSpec{method: "PUT", path: "/api/v1/torrents"})
	errorOf(t, w, 405)
	if allow := w.Header().Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Errorf("Allow = %q", allow)
	}
	errorOf(t, serve(t, h, reqSpec{method: "GET", path: "/add/magnet"}), 405)
}

func TestToken(t *testing.T) {
	const tok = "s3cret-token"
	fb := apitest.New()
	h := NewHandler(fb, Options{Token: tok})
	tests := []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"missing", nil, 401},
		{"wrong bearer", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"prefix of token", map[string]string{"Authorization": "Bearer s3cret"}, 401},
		{"wrong scheme", map[string]string{"Authorization": "Basic " + tok}, 401},
		{"wrong header token", map[string]string{TokenHeader: "nope"}, 401},
		{"right bearer", map[string]string{"Authorization": "Bearer " + tok}, 200},
		{"lower-case scheme", map[string]string{"Authorization": "bearer " + tok}, 200},
		{"right header token", map[string]string{TokenHeader: tok}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, rs := range []reqSpec{
				{method: "GET", path: "/api/v1/torrents"},
				{method: "GET", path: "/nope"}, // routes are not revealed without a token
				{method: "POST", path: "/add/magnet", ctype: "text/plain", body: "magnet:?xt=urn:btih:" + strings.Repeat("a", 40)},
			} {
				rs.headers = tt.headers
				w := serve(t, h, rs)
				if tt.status == 401 {
					errorOf(t, w, 401)
					if w.Header().Get("WWW-Authenticate") == "" {
						t.Error("401 without WWW-Authenticate")
					}
					continue
				}
				if w.Code == 401 {
					t.Fatalf("%s %s: 401 with a right token", rs.method, rs.path)
				}
			}
		})
	}
	if len(fb.Adds) != 3 {
		t.Errorf("backend saw %d adds, want 3 (only authorised requests)", len(fb.Adds))
	}
}

func TestBodyTooLarge(t *testing.T) {
	const limit = 1024
	big := "d" + strings.Repeat("x", 2*limit)
	h := NewHandler(apitest.New(), Options{MaxBodyBytes: limit})
	tests := []reqSpec{
		{method: "POST", path: "/api/v1/torrents", ctype: "application/x-bittorrent", body: big},
		{method: "POST", path: "/api/v1/torrents", ctype: "application/x-bittorrent", body: big, chunked: true},
		{method: "POST", path: "/api/v1/torrents", ctype: "application/json", body: `{"uri":"` + big + `"}`, chunked: true},
		{method: "POST", path: "/api/v1/torrents", ctype: "text/plain", body: big, chunked: true},
		{method: "POST", path: "/add/magnet", ctype: "text/plain", body: "magnet:?" + big, chunked: true},
	}
	for i, rs := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			msg := errorOf(t, serve(t, h, rs), 413)
			if !strings.Contains(msg, "1024") {
				t.Errorf("message %q does not state the limit", msg)
			}
		})
	}
	ct, body := multipartBody(t, nil, []byte(big))
	errorOf(t, serve(t, h, reqSpec{method: "POST", path: "/api/v1/torrents", ctype: ct, body: body, chunked: true}), 413)

	// Just under the limit is accepted.
	ok := "d" + strings.Repeat("x", limit-1)
	if w := serve(t, h, reqSpec{method: "POST", path: "/api/v1/torrents", ctype: "application/x-bittorrent", body: ok}); w.Code != 201 {
		t.Errorf("body of exactly the limit: %d %s", w.Code, w.Body.String())
	}
}

func TestRequestLogging(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := NewHandler(apitest.New(), Options{Logger: log, Token: "tok"})
	serve(t, h, reqSpec{method: "GET", path: "/api/v1/torrents", headers: map[string]string{"Authorization": "Bearer tok"}})
	out := buf.String()
	for _, want := range []string{"level=DEBUG", "method=GET", "path=/api/v1/torrents", "status=200"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
	if strings.Contains(out, "tok\"") || strings.Contains(out, "Bearer") {
		t.Errorf("log leaks the token: %q", out)
	}
}

func TestParseInfoHash(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{hashA, hashA, true},
		{strings.ToUpper(hashA), hashA, true},
		{"", "", false},
		{hashA[:39], "", false},
		{hashA + "a", "", false},
		{strings.Repeat("z", 40), "", false},
		{strings.Repeat("é", 20), "", false},
	}
	for _, tt := range tests {
		got, err := ParseInfoHash(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseInfoHash(%q) = %q, %v", tt.in, got, err)
		}
	}
}

// FuzzAddHandler feeds arbitrary bodies and content types to the add
// routes: the handler must never panic and must answer a known status.
func FuzzAddHandler(f *testing.F) {
	f.Add("application/json", `{"uri":"`+magnetA+`"}`, false)
	f.Add("application/x-bittorrent", "d4:infodee", false)
	f.Add("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"torrent\"\r\n\r\nd\r\n--b--\r\n", false)
	f.Add("text/plain", magnetA, true)
	f.Add("text/plain; charset=\"", "", true)
	f.Fuzz(func(t *testing.T, ctype, body string, compat bool) {
		h := NewHandler(apitest.New(), Options{MaxBodyBytes: 4096})
		path := "/api/v1/torrents"
		if compat {
			path = "/add/magnet"
		}
		if strings.Contains(body, "panic") || strings.Contains(body, "boom") {
			return // the fake's failure triggers
		}
		w := serve(t, h, reqSpec{method: "POST", path: path, ctype: ctype, body: body})
		switch w.Code {
		case 200, 201, 400, 409, 413, 415:
		default:
			t.Fatalf("status %d for %q %q: %s", w.Code, ctype, body, w.Body.String())
		}
	})
}
