package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/api/apitest"
)

// TestWebUIRoutes checks that the daemon's handler serves the web UI at /
// and /ui/, behind the Host guard, without the token (the API itself still
// needs it), and that unknown API paths stay JSON 404s.
func TestWebUIRoutes(t *testing.T) {
	h := NewHandler(apitest.New(), Options{Addr: "127.0.0.1:8080", Token: "s3cret"})
	get := func(host, path string, hdr map[string]string) (int, http.Header, string) {
		w := withHost(t, h, host, reqSpec{method: "GET", path: path, headers: hdr})
		return w.Code, w.Header(), w.Body.String()
	}

	code, hd, body := get("127.0.0.1:8080", "/", nil)
	if code != http.StatusOK || !strings.Contains(body, "/ui/app.js") {
		t.Fatalf("GET / without token: %d %q", code, body)
	}
	if csp := hd.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("GET /: CSP %q", csp)
	}
	if hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("X-Frame-Options") != "DENY" {
		t.Errorf("GET /: nosniff %q, frame options %q", hd.Get("X-Content-Type-Options"), hd.Get("X-Frame-Options"))
	}
	for path, ctype := range map[string]string{"/ui/app.js": "text/javascript; charset=utf-8", "/ui/style.css": "text/css; charset=utf-8"} {
		if code, hd, _ := get("localhost:8080", path, nil); code != http.StatusOK || hd.Get("Content-Type") != ctype {
			t.Errorf("GET %s: %d %q, want 200 %q", path, code, hd.Get("Content-Type"), ctype)
		}
	}

	// The data still needs the token.
	if code, _, _ := get("127.0.0.1:8080", "/api/v1/torrents", nil); code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/torrents without token: %d, want 401", code)
	}
	if code, _, _ := get("127.0.0.1:8080", "/api/v1/torrents", map[string]string{"Authorization": "Bearer s3cret"}); code != http.StatusOK {
		t.Errorf("GET /api/v1/torrents with token: %d, want 200", code)
	}

	// A DNS-rebound name gets 403, on the UI as on the API.
	for _, p := range []string{"/", "/ui/app.js"} {
		code, _, body := get("rebind.example:8080", p, nil)
		if code != http.StatusForbidden || !strings.Contains(body, AllowedHostsFlag) {
			t.Errorf("GET %s with a rebound Host: %d %q, want 403", p, code, body)
		}
	}

	// Unknown paths: JSON 404 (with the token), not the UI.
	for _, p := range []string{"/api/v1/nope", "/api/v1/", "/api", "/favicon.ico", "/something"} {
		code, hd, body := get("127.0.0.1:8080", p, map[string]string{"Authorization": "Bearer s3cret"})
		var eb ErrorBody
		if code != http.StatusNotFound || !strings.HasPrefix(hd.Get("Content-Type"), "application/json") || json.Unmarshal([]byte(body), &eb) != nil || eb.Error == "" {
			t.Errorf("GET %s: %d %q %q, want a JSON 404", p, code, hd.Get("Content-Type"), body)
		}
	}
	// Without the token an unknown path is a 401, as before: only the
	// UI's own files are open.
	if code, _, _ := get("127.0.0.1:8080", "/something", nil); code != http.StatusUnauthorized {
		t.Errorf("GET /something without token: %d, want 401", code)
	}
	// State-changing methods on / are not the UI's.
	w := withHost(t, h, "127.0.0.1:8080", reqSpec{method: "POST", path: "/", headers: map[string]string{"Authorization": "Bearer s3cret"}})
	if w.Code != http.StatusMethodNotAllowed || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Errorf("POST /: %d %q, want a JSON 405", w.Code, w.Header().Get("Content-Type"))
	}
}
