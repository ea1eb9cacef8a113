package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/api/apitest"
)

// withHost serves rs with the Host header set to host.
func withHost(t *testing.T, h http.Handler, host string, rs reqSpec) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(rs.method, rs.path, strings.NewReader(rs.body))
	r.Host = host
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

func TestHostCheck(t *testing.T) {
	loop := Options{Addr: "127.0.0.1:8080"}
	tests := []struct {
		name string
		opts Options
		host string
		want bool
	}{
		{"rebinding name", loop, "rebind.example", false},
		{"rebinding name with port", loop, "rebind.example:8080", false},
		{"localhost", loop, "localhost", true},
		{"localhost with port", loop, "localhost:8080", true},
		{"localhost any case", loop, "LocalHost:8080", true},
		{"localhost fqdn", loop, "localhost.:8080", true},
		{"localhost subdomain", loop, "gobit.localhost:8080", true},
		{"localhost as a prefix", loop, "localhost.evil.example", false},
		{"localhost inside a name", loop, "evil-localhost:8080", false},
		{"127.0.0.1", loop, "127.0.0.1", true},
		{"127.0.0.1 with port", loop, "127.0.0.1:8080", true},
		{"other 127/8", loop, "127.3.2.1:8080", true},
		{"ipv6 loopback", loop, "[::1]:8080", true},
		{"ipv6 loopback without port", loop, "[::1]", true},
		{"ipv4-mapped loopback", loop, "[::ffff:127.0.0.1]:8080", true},
		{"unbracketed ipv6", loop, "::1", false},
		{"unclosed bracket", loop, "[::1:8080", false},
		{"bracketed ipv4", loop, "[127.0.0.1]:8080", false},
		{"bad port", loop, "localhost:80a", false},
		{"empty port", loop, "localhost:", false},
		{"two ports", loop, "localhost:1:2", false},
		{"LAN address, loopback daemon", loop, "192.168.1.5:8080", false},
		{"decimal 127.0.0.1 is a name", loop, "2130706433:8080", false},
		{"no Host (HTTP/1.0)", loop, "", true},

		{"--addr host name", Options{Addr: "nas.lan:8080"}, "nas.lan:8080", true},
		{"--addr host name any case", Options{Addr: "nas.lan:8080"}, "NAS.LAN", true},
		{"--addr host name, other name", Options{Addr: "nas.lan:8080"}, "rebind.example", false},
		{"--addr host name, LAN address", Options{Addr: "nas.lan:8080"}, "192.168.1.5:8080", false},
		{"--addr IP", Options{Addr: "192.168.1.5:8080"}, "192.168.1.5:8080", true},
		{"--addr IP, other IP", Options{Addr: "192.168.1.5:8080"}, "192.168.1.6:8080", false},
		{"--addr IPv6", Options{Addr: "[fd00::5]:8080"}, "[fd00:0::5]:8080", true},

		{"wildcard 0.0.0.0, LAN IP", Options{Addr: "0.0.0.0:8080"}, "192.168.1.5:8080", true},
		{"wildcard 0.0.0.0, name", Options{Addr: "0.0.0.0:8080"}, "rebind.example:8080", false},
		{"wildcard empty host, IP", Options{Addr: ":8080"}, "10.1.2.3:8080", true},
		{"wildcard [::], IPv6", Options{Addr: "[::]:8080"}, "[2001:db8::1]:8080", true},
		{"wildcard [::], name", Options{Addr: "[::]:8080"}, "nas.lan", false},

		{"allow list name", Options{Addr: "127.0.0.1:8080", AllowedHosts: []string{"gobit.example"}}, "gobit.example:443", true},
		{"allow list name any case", Options{Addr: "127.0.0.1:8080", AllowedHosts: []string{"Gobit.Example"}}, "gobit.EXAMPLE", true},
		{"allow list, other name", Options{Addr: "127.0.0.1:8080", AllowedHosts: []string{"gobit.example"}}, "rebind.example", false},
		{"allow list, subdomain of exact name", Options{Addr: "127.0.0.1:8080", AllowedHosts: []string{"gobit.example"}}, "a.gobit.example", false},
		{"allow list wildcard subdomain", Options{AllowedHosts: []string{"*.proxy.example"}}, "ui.proxy.example", true},
		{"allow list wildcard, bare domain", Options{AllowedHosts: []string{"*.proxy.example"}}, "proxy.example", false},
		{"allow list wildcard, suffix trick", Options{AllowedHosts: []string{"*.proxy.example"}}, "evilproxy.example", false},
		{"allow list IP", Options{AllowedHosts: []string{"10.0.0.7"}}, "10.0.0.7:8080", true},
		{"allow list bracketed IPv6", Options{AllowedHosts: []string{"[fd00::1]"}}, "[fd00::1]:80", true},
		{"allow list star", Options{Addr: "127.0.0.1:8080", AllowedHosts: []string{"gobit.example", "*"}}, "rebind.example", true},
		{"allow list star, garbage host", Options{AllowedHosts: []string{"*"}}, "::1", true},
		{"zero options", Options{}, "rebind.example", false},
		{"zero options, localhost", Options{}, "localhost:8080", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := apitest.New()
			h := NewHandler(fb, tt.opts)
			reqs := []reqSpec{
				{method: "GET", path: "/api/v1/torrents"},
				{method: "POST", path: "/add/magnet", ctype: "text/plain", body: magnetA},
				{method: "POST", path: "/api/v1/torrents", ctype: "text/plain", body: magnetB},
				{method: "GET", path: "/no/such/route"},
				{method: "DELETE", path: "/api/v1/torrents/" + hashA + "?delete_data=true"},
			}
			for _, rs := range reqs {
				w := withHost(t, h, tt.host, rs)
				if !tt.want {
					msg := errorOf(t, w, http.StatusForbidden)
					if !strings.Contains(msg, "--api-allowed-hosts") {
						t.Errorf("%s %s: message %q does not name --api-allowed-hosts", rs.method, rs.path, msg)
					}
					continue
				}
				if w.Code == http.StatusForbidden {
					t.Errorf("%s %s with Host %q: 403 %s", rs.method, rs.path, tt.host, w.Body.String())
				}
			}
			if tt.want {
				if len(fb.Adds) != 2 || len(fb.Removed) != 1 {
					t.Errorf("allowed Host: %d adds, %d removals, want 2 and 1", len(fb.Adds), len(fb.Removed))
				}
			} else if len(fb.Adds) != 0 || len(fb.Removed) != 0 {
				t.Errorf("refused Host reached the backend: %d adds, %d removals", len(fb.Adds), len(fb.Removed))
			}
		})
	}
}

// TestHostCheckBeforeAuth checks that a refused Host is refused before the
// token is looked at, so that a rebinding page learns nothing about it.
func TestHostCheckBeforeAuth(t *testing.T) {
	h := NewHandler(apitest.New(), Options{Token: "s3cret"})
	w := withHost(t, h, "rebind.example:8080", reqSpec{method: "GET", path: "/api/v1/torrents",
		headers: map[string]string{"Authorization": "Bearer s3cret"}})
	errorOf(t, w, http.StatusForbidden)
	w = withHost(t, h, "rebind.example:8080", reqSpec{method: "GET", path: "/api/v1/torrents"})
	errorOf(t, w, http.StatusForbidden)
}

func TestCrossSiteStateChangesRefused(t *testing.T) {
	const host = "localhost:8080"
	tests := []struct {
		name    string
		host    string // default host
		opts    Options
		headers map[string]string
		want    bool
	}{
		{"curl: no Origin, no Sec-Fetch", "", Options{}, nil, true},
		{"same origin", "", Options{}, map[string]string{"Origin": "http://localhost:8080"}, true},
		{"same origin any case", "", Options{}, map[string]string{"Origin": "http://LOCALHOST:8080"}, true},
		{"same origin, Sec-Fetch-Site same-origin", "", Options{},
			map[string]string{"Origin": "http://localhost:8080", "Sec-Fetch-Site": "same-origin"}, true},
		{"typed by the user", "", Options{}, map[string]string{"Sec-Fetch-Site": "none"}, true},
		{"other site", "", Options{}, map[string]string{"Origin": "http://evil.example"}, false},
		{"other port", "", Options{}, map[string]string{"Origin": "http://localhost:3000"}, false},
		{"other loopback name", "", Options{}, map[string]string{"Origin": "http://127.0.0.1:8080"}, false},
		{"default port is not ours", "", Options{}, map[string]string{"Origin": "http://localhost"}, false},
		{"null origin", "", Options{}, map[string]string{"Origin": "null"}, false},
		{"garbage origin", "", Options{}, map[string]string{"Origin": "%%%"}, false},
		{"origin with path", "", Options{}, map[string]string{"Origin": "http://localhost:8080/x"}, false},
		{"origin with user", "", Options{}, map[string]string{"Origin": "http://u@localhost:8080"}, false},
		{"file origin", "", Options{}, map[string]string{"Origin": "file://"}, false},
		{"Sec-Fetch-Site cross-site", "", Options{}, map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"Sec-Fetch-Site same-site", "", Options{}, map[string]string{"Sec-Fetch-Site": "same-site"}, false},
		{"Sec-Fetch-Site cross-site, forged same Origin", "", Options{},
			map[string]string{"Origin": "http://localhost:8080", "Sec-Fetch-Site": "cross-site"}, false},
		{"Sec-Fetch-Site unknown value", "", Options{}, map[string]string{"Sec-Fetch-Site": "whatever"}, false},
		{"Host without port, default-port Origin", "localhost", Options{}, map[string]string{"Origin": "http://localhost"}, true},
		{"Host without port, explicit :80 Origin", "localhost", Options{}, map[string]string{"Origin": "http://localhost:80"}, true},
		{"reverse proxy over https", "proxy.example", Options{AllowedHosts: []string{"proxy.example"}},
			map[string]string{"Origin": "https://proxy.example", "Sec-Fetch-Site": "same-origin"}, true},
		{"reverse proxy, other origin", "proxy.example", Options{AllowedHosts: []string{"*"}},
			map[string]string{"Origin": "https://evil.example"}, false},
		{"IPv6 same origin", "[::1]:8080", Options{}, map[string]string{"Origin": "http://[::1]:8080"}, true},
		{"IPv6 other port", "[::1]:8080", Options{}, map[string]string{"Origin": "http://[::1]:9090"}, false},
		{"allowed browser extension", "", Options{AllowedOrigins: []string{extOrigin}},
			map[string]string{"Origin": extOrigin, "Sec-Fetch-Site": "none"}, true},
		{"allowed web UI elsewhere, cross-site", "", Options{AllowedOrigins: []string{"https://ui.example:443"}},
			map[string]string{"Origin": "https://ui.example", "Sec-Fetch-Site": "cross-site"}, true},
		{"another extension than the allowed one", "", Options{AllowedOrigins: []string{extOrigin}},
			map[string]string{"Origin": "chrome-extension://bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}, false},
		{"an allowed origin's prefix", "", Options{AllowedOrigins: []string{"https://ui.example"}},
			map[string]string{"Origin": "https://ui.example.evil.example"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := apitest.New()
			h := NewHandler(fb, tt.opts)
			hst := tt.host
			if hst == "" {
				hst = host
			}
			// A torrent to remove, move and pause, added the curl way.
			if w := withHost(t, h, hst, reqSpec{method: "POST", path: "/add/magnet", ctype: "text/plain", body: magnetB}); w.Code != 200 {
				t.Fatalf("setup add: %d %s", w.Code, w.Body.String())
			}
			reqs := []reqSpec{
				{method: "POST", path: "/add/magnet", ctype: "text/plain", body: magnetA},
				{method: "POST", path: "/add/magnet", ctype: "application/x-www-form-urlencoded", body: magnetA},
				{method: "POST", path: "/add/magnet", body: magnetA},
				{method: "POST", path: "/api/v1/torrents?download_dir=/tmp/x", ctype: "text/plain", body: magnetA},
				{method: "POST", path: "/api/v1/torrents/" + hashB + "/pause"},
				{method: "POST", path: "/api/v1/torrents/" + hashB + "/move", ctype: "application/json", body: `{"path":"/tmp/moved"}`},
				{method: "PATCH", path: "/api/v1/session", ctype: "application/json", body: `{}`},
				{method: "PUT", path: "/api/v1/torrents"},
				{method: "DELETE", path: "/api/v1/torrents/" + hashB + "?delete_data=true"},
			}
			for _, rs := range reqs {
				rs.headers = tt.headers
				w := withHost(t, h, hst, rs)
				if !tt.want {
					msg := errorOf(t, w, http.StatusForbidden)
					if !strings.Contains(msg, "refused") || !strings.Contains(msg, "curl") {
						t.Errorf("%s %s: message %q does not say what was refused and what to use", rs.method, rs.path, msg)
					}
					continue
				}
				if w.Code == http.StatusForbidden {
					t.Errorf("%s %s: 403 %s", rs.method, rs.path, w.Body.String())
				}
			}
			d, err := fb.Get(hashB)
			if !tt.want {
				if len(fb.Adds) != 1 || len(fb.Removed) != 0 || err != nil || d.SaveDir == "/tmp/moved" {
					t.Errorf("refused requests reached the backend: %d adds, removed %v, save dir %q (%v)",
						len(fb.Adds), fb.Removed, d.SaveDir, err)
				}
			} else if len(fb.Adds) < 2 || len(fb.Removed) != 1 {
				t.Errorf("allowed requests did not reach the backend: %d adds, removed %v", len(fb.Adds), fb.Removed)
			}
		})
	}
}

// TestCrossSiteReadsServedWithoutCORS checks that GET and HEAD from another
// site are answered (they change nothing) but that no CORS header is ever
// sent, so the other site's page cannot read the answer; an OPTIONS
// preflight gets none either.
func TestCrossSiteReadsServedWithoutCORS(t *testing.T) {
	fb := apitest.New()
	h := NewHandler(fb, Options{})
	if w := withHost(t, h, "localhost:8080", reqSpec{method: "POST", path: "/add/magnet", body: magnetA}); w.Code != 200 {
		t.Fatalf("setup add: %d", w.Code)
	}
	cross := map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"}
	for _, rs := range []reqSpec{
		{method: "GET", path: "/api/v1/torrents"},
		{method: "GET", path: "/api/v1/torrents/" + hashA},
		{method: "HEAD", path: "/api/v1/torrents"},
		{method: "GET", path: "/api/v1/session"},
	} {
		rs.headers = cross
		w := withHost(t, h, "localhost:8080", rs)
		if w.Code != http.StatusOK {
			t.Errorf("%s %s cross-site: %d %s", rs.method, rs.path, w.Code, w.Body.String())
		}
		for k := range w.Header() {
			if strings.HasPrefix(strings.ToLower(k), "access-control-") {
				t.Errorf("%s %s: CORS header %s: %s sent", rs.method, rs.path, k, w.Header().Get(k))
			}
		}
	}
	pre := map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "DELETE",
		"Access-Control-Request-Headers": "content-type"}
	w := withHost(t, h, "localhost:8080", reqSpec{method: "OPTIONS", path: "/api/v1/torrents/" + hashA, headers: pre})
	if w.Code/100 == 2 {
		t.Errorf("preflight answered %d", w.Code)
	}
	for k := range w.Header() {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			t.Errorf("preflight: CORS header %s sent", k)
		}
	}
	if len(fb.Removed) != 0 {
		t.Errorf("a read removed torrents: %v", fb.Removed)
	}
}

func TestRelativePathsRefused(t *testing.T) {
	fb := apitest.New()
	h := NewHandler(fb, Options{})
	if w := serve(t, h, reqSpec{method: "POST", path: "/add/magnet", body: magnetB}); w.Code != 200 {
		t.Fatalf("setup add: %d", w.Code)
	}
	ctype, body := multipartBody(t, map[string]string{"uri": magnetA, "download_dir": "Downloads"}, nil)
	for _, rel := range []string{"rel", "./rel", "../../home/u", "~/Downloads", ".bashrc.d"} {
		q := url.QueryEscape(rel)
		js, _ := json.Marshal(AddBody{URI: magnetA, DownloadDir: rel})
		mv, _ := json.Marshal(MoveBody{Path: rel})
		for _, c := range []struct {
			rs    reqSpec
			field string
		}{
			{reqSpec{method: "POST", path: "/api/v1/torrents?download_dir=" + q, ctype: "text/plain", body: magnetA}, "download_dir"},
			{reqSpec{method: "POST", path: "/api/v1/torrents", ctype: "application/json", body: string(js)}, "download_dir"},
			{reqSpec{method: "POST", path: "/api/v1/torrents", ctype: ctype, body: body}, "download_dir"},
			{reqSpec{method: "POST", path: "/api/v1/torrents/" + hashB + "/move", ctype: "application/json", body: string(mv)}, "path"},
		} {
			msg := errorOf(t, serve(t, h, c.rs), http.StatusBadRequest)
			if !strings.Contains(msg, c.field) || !strings.Contains(msg, "absolute") {
				t.Errorf("%s %s with %q: message %q does not name %s and say absolute", c.rs.method, c.rs.path, rel, msg, c.field)
			}
		}
	}
	if len(fb.Adds) != 1 {
		t.Errorf("relative download dirs reached the backend: %+v", fb.Adds[1:])
	}
	if d, _ := fb.Get(hashB); d.SaveDir != "" && !strings.HasPrefix(d.SaveDir, "/") {
		t.Errorf("torrent moved to %q", d.SaveDir)
	}
	// Absolute paths still work.
	if w := serve(t, h, reqSpec{method: "POST", path: "/api/v1/torrents?download_dir=%2Fsrv%2Fdl", ctype: "text/plain", body: magnetA}); w.Code != http.StatusCreated {
		t.Fatalf("absolute download_dir: %d %s", w.Code, w.Body.String())
	}
	if got := fb.LastAdd().DownloadDir; got != "/srv/dl" {
		t.Errorf("backend got download dir %q", got)
	}
	if w := serve(t, h, reqSpec{method: "POST", path: "/api/v1/torrents/" + hashB + "/move", ctype: "application/json", body: `{"path":"/srv/moved"}`}); w.Code != http.StatusNoContent {
		t.Fatalf("absolute move: %d %s", w.Code, w.Body.String())
	}
}

// extOrigin is a browser extension's origin.
const extOrigin = "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

// TestAllowedOriginCORS checks the CORS answers to an origin of
// --api-allowed-origins: a preflight is answered before the token check
// (browsers send no credentials with it), every answer names the origin,
// the token is still required, and other origins get no CORS header.
func TestAllowedOriginCORS(t *testing.T) {
	fb := apitest.New()
	h := NewHandler(fb, Options{Token: "tok", AllowedOrigins: []string{extOrigin, "moz-extension://0e9f2c4a-1111-2222-3333-444455556666"}})
	pre := map[string]string{"Origin": extOrigin, "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "authorization, content-type"}
	w := withHost(t, h, "localhost:8080", reqSpec{method: "OPTIONS", path: "/api/v1/torrents", headers: pre})
	if w.Code != http.StatusNoContent {
		t.Fatalf("preflight: %d %s", w.Code, w.Body.String())
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":      extOrigin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     corsMethods,
		"Access-Control-Allow-Headers":     corsHeaders,
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("preflight %s = %q, want %q", k, got, want)
		}
	}
	add := reqSpec{method: "POST", path: "/add/magnet", ctype: "text/plain", body: magnetA,
		headers: map[string]string{"Origin": extOrigin, "Sec-Fetch-Site": "none"}}
	if w := withHost(t, h, "localhost:8080", add); w.Code != http.StatusUnauthorized {
		t.Errorf("allowed origin without the token: %d, want 401", w.Code)
	} else if w.Header().Get("Access-Control-Allow-Origin") != extOrigin {
		t.Errorf("a 401 to an allowed origin lacks its CORS header, so the extension cannot tell why")
	}
	add.headers["Authorization"] = "Bearer tok"
	w = withHost(t, h, "localhost:8080", add)
	if w.Code != http.StatusOK || len(fb.Adds) != 1 {
		t.Fatalf("allowed origin with the token: %d %s, %d adds", w.Code, w.Body.String(), len(fb.Adds))
	}
	if w.Header().Get("Access-Control-Allow-Origin") != extOrigin || !strings.Contains(w.Header().Get("Vary"), "Origin") {
		t.Errorf("answer headers %v", w.Header())
	}
	if !strings.Contains(w.Header().Get("Access-Control-Expose-Headers"), "X-Transmission-Session-Id") {
		t.Errorf("the Transmission session id is not exposed: %q", w.Header().Get("Access-Control-Expose-Headers"))
	}
	// Another origin still gets nothing.
	other := map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
	w = withHost(t, h, "localhost:8080", reqSpec{method: "OPTIONS", path: "/api/v1/torrents", headers: other})
	for k := range w.Header() {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			t.Errorf("other origin's preflight: CORS header %s sent", k)
		}
	}
}

func TestValidateAllowedOrigins(t *testing.T) {
	good := []string{extOrigin, "moz-extension://0e9f2c4a-1111-2222-3333-444455556666", "https://ui.example.org:8443", "http://[::1]:3000", "https://ui.example.org/"}
	if err := ValidateAllowedOrigins(good); err != nil {
		t.Errorf("%q: %v", good, err)
	}
	for _, e := range []string{"*", "null", "https://*.example.org", "ui.example.org", "https://ui.example.org/path", "https://u@ui.example.org", "https://ui.example.org?x", "chrome-extension:abc"} {
		if err := ValidateAllowedOrigins([]string{extOrigin, e}); err == nil {
			t.Errorf("%q accepted", e)
		}
	}
}

func TestValidateAllowedHosts(t *testing.T) {
	good := [][]string{nil, {"*"}, {"gobit.example", "*.proxy.example", "10.0.0.7", "fd00::1", "[fd00::1]", "nas", "my_host.lan."}}
	for _, l := range good {
		if err := ValidateAllowedHosts(l); err != nil {
			t.Errorf("%q: %v", l, err)
		}
	}
	for _, e := range []string{"http://gobit.example", "gobit.example:8080", "a..b", "*.10.0.0.7", "gobit.example/x", "*foo", "a b"} {
		if err := ValidateAllowedHosts([]string{"ok.example", e}); err == nil {
			t.Errorf("%q accepted", e)
		}
	}
}

// TestGuardOnOtherHandlers checks Guard on a handler that is not the API's
// (the daemon wraps the --pprof profiles in it).
func TestGuardOnOtherHandlers(t *testing.T) {
	called := 0
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := Guard(Options{Addr: "127.0.0.1:8080", Logger: log}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called++ }))
	errorOf(t, withHost(t, h, "rebind.example:8080", reqSpec{method: "GET", path: "/debug/pprof/cmdline"}), http.StatusForbidden)
	if l := logBuf.String(); !strings.Contains(l, `msg="api request refused" method=GET path=/debug/pprof/cmdline host=rebind.example:8080`) {
		t.Errorf("refusal not logged: %q", l)
	}
	errorOf(t, withHost(t, h, "localhost:8080", reqSpec{method: "POST", path: "/debug/pprof/symbol",
		headers: map[string]string{"Origin": "http://evil.example"}}), http.StatusForbidden)
	if w := withHost(t, h, "localhost:8080", reqSpec{method: "GET", path: "/debug/pprof/cmdline"}); w.Code != 200 || called != 1 {
		t.Fatalf("allowed request: %d, handler called %d times", w.Code, called)
	}
}
