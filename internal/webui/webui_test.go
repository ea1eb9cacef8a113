package webui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestIndexAndAssets(t *testing.T) {
	h := Handler()
	tests := []struct {
		path, ctype, contains string
	}{
		{"/", "text/html; charset=utf-8", `<script type="module" src="/ui/app.js">`},
		{"/ui/index.html", "text/html; charset=utf-8", "<title>gobit</title>"},
		{"/ui/app.js", "text/javascript; charset=utf-8", "import"},
		{"/ui/api.js", "text/javascript; charset=utf-8", "/api/v1/events"},
		{"/ui/detail.js", "text/javascript; charset=utf-8", "export class Detail"},
		{"/ui/dom.js", "text/javascript; charset=utf-8", "textContent"},
		{"/ui/bencode.js", "text/javascript; charset=utf-8", "export function torrentFiles"},
		{"/ui/organize.js", "text/javascript; charset=utf-8", "export class Organizer"},
		{"/ui/style.css", "text/css; charset=utf-8", "prefers-color-scheme: dark"},
		{"/ui/icon.svg", "image/svg+xml", "<svg"},
	}
	for _, tc := range tests {
		w := get(t, h, "GET", tc.path, nil)
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: %d", tc.path, w.Code)
			continue
		}
		if got := w.Header().Get("Content-Type"); got != tc.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.ctype)
		}
		if !strings.Contains(w.Body.String(), tc.contains) {
			t.Errorf("GET %s: body lacks %q", tc.path, tc.contains)
		}
		checkSecurityHeaders(t, tc.path, w.Header())
		// Revalidation answers 304 with the ETag.
		etag := w.Header().Get("ETag")
		if etag == "" {
			t.Errorf("GET %s: no ETag", tc.path)
			continue
		}
		if w2 := get(t, h, "GET", tc.path, map[string]string{"If-None-Match": etag}); w2.Code != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match: %d, want 304", tc.path, w2.Code)
		}
	}
}

// checkSecurityHeaders checks the headers that keep the page from being
// framed, sniffed or made to run foreign scripts.
func checkSecurityHeaders(t *testing.T, path string, hd http.Header) {
	t.Helper()
	csp := hd.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", path, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: CSP allows inline or eval: %q", path, csp)
	}
	if hd.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", path, hd.Get("X-Content-Type-Options"))
	}
	if hd.Get("X-Frame-Options") != "DENY" {
		t.Errorf("%s: X-Frame-Options %q", path, hd.Get("X-Frame-Options"))
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/ui/", "/ui/nope.js", "/ui/../go.mod", "/ui/static/app.js", "/index.html"} {
		if w := get(t, h, "GET", p, nil); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, w.Code)
		}
	}
	w := get(t, h, "POST", "/", nil)
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %d Allow %q", w.Code, w.Header().Get("Allow"))
	}
	if w := get(t, h, "HEAD", "/ui/app.js", nil); w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Errorf("HEAD /ui/app.js: %d, %d body bytes", w.Code, w.Body.Len())
	}
}

func TestIsAsset(t *testing.T) {
	tests := []struct {
		method, path string
		want         bool
	}{
		{"GET", "/", true},
		{"HEAD", "/", true},
		{"GET", "/ui/app.js", true},
		{"POST", "/", false},
		{"GET", "/api/v1/torrents", false},
		{"GET", "/uix", false},
		{"DELETE", "/ui/app.js", false},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		if got := IsAsset(r); got != tc.want {
			t.Errorf("IsAsset(%s %s) = %v", tc.method, tc.path, got)
		}
	}
}

// TestNoInlineScriptsOrMarkupFromData checks what the CSP relies on: the
// page has no inline script or style attribute, and the scripts never
// assign markup (innerHTML, outerHTML, insertAdjacentHTML, document.write),
// so names and messages from the network can only become text.
func TestNoInlineScriptsOrMarkupFromData(t *testing.T) {
	h := Handler()
	index := get(t, h, "GET", "/", nil).Body.String()
	if m := regexp.MustCompile(`<script(?:[^>]*)>[^<]+</script>|\son[a-z]+=|\sstyle=`).FindString(index); m != "" {
		t.Errorf("index.html has inline script or style: %q", m)
	}
	bad := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function`)
	ents, err := static.ReadDir("static")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".js") {
			continue
		}
		f, _ := static.Open("static/" + e.Name())
		src, _ := io.ReadAll(f)
		f.Close()
		if m := bad.Find(src); m != nil {
			t.Errorf("%s uses %s", e.Name(), m)
		}
	}
}
