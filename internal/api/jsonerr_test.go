package api

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/api/apitest"
)

// goTypeName matches what a Go type name in a message looks like.
var goTypeName = regexp.MustCompile(`Go (value|struct)|\bsession\.|\bapi\.|int64|float64|\[\]uint8|\*`)

// TestJSONErrorsNameFieldsNotGoTypes: a body with a wrong JSON type is a
// 400 whose message names the field and what it must be, never a Go type.
func TestJSONErrorsNameFieldsNotGoTypes(t *testing.T) {
	h := NewHandler(apitest.New(), Options{})
	tests := []struct {
		method, path, body, want string
	}{
		{"POST", "/api/v1/torrents", `{"uri": 5}`, `field "uri": want a string, got a number`},
		{"POST", "/api/v1/torrents", `{"torrent": true}`, `field "torrent": want a base64 string, got true or false`},
		{"POST", "/api/v1/torrents", `"magnet:?xt=urn:btih:` + hashA + `"`, `the JSON body must be an object, got a string`},
		{"POST", "/api/v1/torrents", `{"uri": "x"`, `malformed JSON body`},
		{"POST", "/api/v1/torrents", `{"url": "x"}`, `unknown field "url"`},
		{"PATCH", "/api/v1/torrents/" + hashA, `{"upload_limit": "fast"}`, `field "upload_limit": want an integer 0..`},
		{"PATCH", "/api/v1/torrents/" + hashA, `{"upload_slots": 1.5}`, `field "upload_slots": want an integer -1..1000 (-1 unlimited, 0 the default), got 1.5`},
		{"PATCH", "/api/v1/torrents/" + hashA, `{"ratio_limit": [1]}`, `field "ratio_limit": want a number 0..`},
		{"PATCH", "/api/v1/session", `{"seed_time_limit": {}}`, `field "seed_time_limit": want an integer 0..3153600000 (seconds; 0 means no limit), got an object`},
		{"PATCH", "/api/v1/session", `{"upload_limit": 1e400}`, `field "upload_limit"`},
	}
	for _, tt := range tests {
		msg := errorOf(t, serve(t, h, reqSpec{method: tt.method, path: tt.path, ctype: "application/json", body: tt.body}), http.StatusBadRequest)
		t.Logf("%s %s: %s", tt.method, tt.body, msg)
		if !strings.Contains(msg, tt.want) {
			t.Errorf("%s %s %s: %q, want %q", tt.method, tt.path, tt.body, msg, tt.want)
		}
		if goTypeName.MatchString(msg) || strings.Contains(msg, "json:") {
			t.Errorf("%s %s %s: message shows Go internals: %q", tt.method, tt.path, tt.body, msg)
		}
	}
}

// TestClientDecodeErrorIsPlain: an answer that is not what the daemon
// sends (another program on the port) is described without Go types.
func TestClientDecodeErrorIsPlain(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"torrents": "none"}`))
	}))
	defer srv.Close()
	_, err := (&Client{BaseURL: srv.URL}).List(t.Context())
	if err == nil {
		t.Fatal("a wrong answer was accepted")
	}
	if goTypeName.MatchString(err.Error()) || strings.Contains(err.Error(), "json:") {
		t.Errorf("message shows Go internals: %q", err)
	}
	if !strings.Contains(err.Error(), "not what a gobit daemon sends") {
		t.Errorf("unclear message: %q", err)
	}
}
