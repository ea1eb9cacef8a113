package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/api/apitest"
	"github.com/gobit/gobit/internal/session"
)

// TestNumericFieldRanges: every numeric field of PATCH /api/v1/torrents/{h}
// and PATCH /api/v1/session accepts exactly its documented range: values
// just outside it, values that overflow (seed_time_limit 18446744074 once
// wrapped into a 290 ms time.Duration), values too large for the field's
// type, non-integers and non-numbers are a 400 that names the field and its
// range, and leave the setting unchanged; the bounds themselves are stored.
func TestNumericFieldRanges(t *testing.T) {
	srv, hash := newRealServer(t)
	routes := map[string]string{
		"torrent": srv.URL + "/api/v1/torrents/" + hash,
		"session": srv.URL + "/api/v1/session",
	}
	type field struct {
		name    string
		routes  []string
		good    []string // stored as given
		bad     []string // refused with a 400
		inRange string   // a phrase of the range in the message
	}
	fields := []field{
		{"upload_limit", []string{"torrent", "session"},
			[]string{"0", "1", fmt.Sprint(int64(session.MaxRateLimit))},
			[]string{"-1", fmt.Sprint(int64(session.MaxRateLimit) + 1), "9223372036854775807", "9223372036854775808", "1e30", "1.5", `"100"`, "true"},
			fmt.Sprintf("0..%d", int64(session.MaxRateLimit))},
		{"download_limit", []string{"torrent", "session"},
			[]string{"0", "65536", fmt.Sprint(int64(session.MaxRateLimit))},
			[]string{"-5", fmt.Sprint(int64(session.MaxRateLimit) + 1), "-9223372036854775808", "2.5", "[]"},
			fmt.Sprintf("0..%d", int64(session.MaxRateLimit))},
		{"ratio_limit", []string{"torrent", "session"},
			[]string{"0", "1.5", "1000000"},
			[]string{"-0.1", "1000000.5", "1e308", "1e400", `"2"`, "{}"},
			"0..1e+06"},
		{"seed_time_limit", []string{"torrent", "session"},
			[]string{"0", "3600", fmt.Sprint(session.MaxSeedTimeLimit)},
			[]string{"-1", "18446744074", fmt.Sprint(session.MaxSeedTimeLimit + 1), "9223372037", "18446744073709551616", "60.5", `"1h"`},
			fmt.Sprintf("0..%d", session.MaxSeedTimeLimit)},
		{"upload_slots", []string{"torrent"},
			[]string{"-1", "0", "7", fmt.Sprint(session.MaxUploadSlots)},
			[]string{"-2", fmt.Sprint(session.MaxUploadSlots + 1), "4294967297", "3.5", `"5"`},
			fmt.Sprintf("-1..%d", session.MaxUploadSlots)},
	}
	// current reads a field's value from the GET of a route.
	current := func(route, name string) string {
		t.Helper()
		var m map[string]json.RawMessage
		if code := doJSON(t, http.MethodGet, routes[route], "", &m); code != http.StatusOK {
			t.Fatalf("GET %s: %d", route, code)
		}
		return string(m[name])
	}
	for _, f := range fields {
		for _, route := range f.routes {
			t.Run(f.name+"/"+route, func(t *testing.T) {
				for _, v := range f.good {
					var m map[string]json.RawMessage
					body := fmt.Sprintf(`{%q: %s}`, f.name, v)
					if code := doJSON(t, http.MethodPatch, routes[route], body, &m); code != http.StatusOK {
						t.Fatalf("PATCH %s: %d, want 200", body, code)
					}
					got := current(route, f.name)
					if f.name == "upload_slots" && v == "0" {
						continue // 0 means the default, reported as its value
					}
					if got != v {
						t.Fatalf("PATCH %s: stored %s", body, got)
					}
				}
				before := current(route, f.name)
				for _, v := range f.bad {
					var e ErrorBody
					body := fmt.Sprintf(`{%q: %s}`, f.name, v)
					code := doJSON(t, http.MethodPatch, routes[route], body, &e)
					if code != http.StatusBadRequest {
						t.Errorf("PATCH %s: %d %q, want 400", body, code, e.Error)
						continue
					}
					if !strings.Contains(e.Error, f.name) {
						t.Errorf("PATCH %s: error %q does not name the field", body, e.Error)
					}
					if !strings.Contains(e.Error, f.inRange) {
						t.Errorf("PATCH %s: error %q does not give the range %s", body, e.Error, f.inRange)
					}
					if strings.Contains(e.Error, "int64") || strings.Contains(e.Error, "float64") || strings.Contains(e.Error, "Go struct") {
						t.Errorf("PATCH %s: error %q shows Go types", body, e.Error)
					}
					if after := current(route, f.name); after != before {
						t.Fatalf("PATCH %s was refused but changed %s from %s to %s", body, f.name, before, after)
					}
				}
			})
		}
	}
}

// TestBadBodiesAre4xx: the JSON routes answer every malformed request with
// the 4xx that says what is wrong, never a 500.
func TestBadBodiesAre4xx(t *testing.T) {
	srv, hash := newRealServer(t)
	urls := []struct{ method, path string }{
		{http.MethodPatch, "/api/v1/torrents/" + hash},
		{http.MethodPatch, "/api/v1/session"},
		{http.MethodPost, "/api/v1/torrents/" + hash + "/move"},
	}
	cases := []struct {
		name, ctype, body string
		want              int
		msg               string
	}{
		{"text/plain", "text/plain", `{"upload_limit": 1}`, http.StatusUnsupportedMediaType, "application/json"},
		{"form", "application/x-www-form-urlencoded", `upload_limit=1`, http.StatusUnsupportedMediaType, "application/json"},
		{"multipart", "multipart/form-data; boundary=x", "--x--", http.StatusUnsupportedMediaType, "application/json"},
		{"bad content type", "application/json; charset", `{}`, http.StatusBadRequest, "Content-Type"},
		{"empty", "application/json", "", http.StatusBadRequest, "empty body"},
		{"whitespace", "application/json", " \n ", http.StatusBadRequest, "empty body"},
		{"not json", "application/json", "not json", http.StatusBadRequest, "malformed JSON"},
		{"truncated", "application/json", `{"upload_limit": `, http.StatusBadRequest, "malformed JSON"},
		{"array", "application/json", `[]`, http.StatusBadRequest, "must be an object"},
		{"null", "application/json", `null`, http.StatusBadRequest, "must be an object"},
		{"number", "application/json", `42`, http.StatusBadRequest, "must be an object"},
		{"unknown field", "application/json", `{"bogus": 1}`, http.StatusBadRequest, `unknown field "bogus"`},
		{"trailing data", "application/json", `{} {}`, http.StatusBadRequest, "after the object"},
		{"wrong type", "application/json", `{"upload_limit": "fast", "path": 7}`, http.StatusBadRequest, "field"},
	}
	for _, u := range urls {
		for _, c := range cases {
			req, err := http.NewRequest(u.method, srv.URL+u.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", c.ctype)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var e ErrorBody
			derr := json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()
			want := c.want
			if resp.StatusCode != want || derr != nil || !strings.Contains(e.Error, c.msg) {
				t.Errorf("%s %s, %s: %d %q (decode %v), want %d with %q", u.method, u.path, c.name, resp.StatusCode, e.Error, derr, want, c.msg)
			}
			if strings.Contains(e.Error, "Go ") || strings.Contains(e.Error, "int64") {
				t.Errorf("%s %s, %s: error %q shows Go types", u.method, u.path, c.name, e.Error)
			}
		}
	}
}

// brokenReader fails like a connection that breaks mid-body.
type brokenReader struct{}

func (brokenReader) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

// TestAddBadBodiesAre4xx: the add routes answer a body that cannot be read
// or decoded with a 400 in plain words, not a 500 or Go type names.
func TestAddBadBodiesAre4xx(t *testing.T) {
	h := NewHandler(&apitest.Backend{}, Options{})
	cases := []struct {
		name, path, ctype, body string
		msg                     string
	}{
		{"uri of the wrong type", "/api/v1/torrents", contentJSON, `{"uri": 5}`, `field "uri"`},
		{"torrent not base64", "/api/v1/torrents", contentJSON, `{"torrent": "not base64!"}`, "base64"},
		{"unknown field", "/api/v1/torrents", contentJSON, `{"url": "magnet:?"}`, `unknown field "url"`},
		{"empty JSON", "/api/v1/torrents", contentJSON, ``, "empty body"},
		{"array", "/api/v1/torrents", contentJSON, `["magnet:?"]`, "must be an object"},
	}
	for _, c := range cases {
		w := serve(t, h, reqSpec{method: "POST", path: c.path, ctype: c.ctype, body: c.body})
		msg := errorOf(t, w, http.StatusBadRequest)
		if !strings.Contains(msg, c.msg) || strings.Contains(msg, "Go ") || strings.Contains(msg, "AddBody") {
			t.Errorf("%s: %q, want a message with %q and no Go names", c.name, msg, c.msg)
		}
	}
	// A body that breaks while being read.
	for _, c := range []struct{ path, ctype string }{
		{"/api/v1/torrents", contentTorrent}, {"/api/v1/torrents", contentText},
		{"/api/v1/torrents", contentJSON}, {"/add/magnet", contentText},
	} {
		r := httptest.NewRequest("POST", c.path, brokenReader{})
		r.Host = "localhost:8080" // httptest's example.com fails the Host check
		r.Header.Set("Content-Type", c.ctype)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		errorOf(t, w, http.StatusBadRequest)
	}
}
