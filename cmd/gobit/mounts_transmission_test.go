package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/api"
	"github.com/gobit/gobit/internal/session"
)

// TestMountsServeTransmission checks that gobit serve mounts the
// Transmission RPC at both paths transmission-remote uses, with its own
// Basic authentication instead of the API token.
func TestMountsServeTransmission(t *testing.T) {
	sess, err := session.New(session.Config{DownloadDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	o := serveOptions{addr: "127.0.0.1:8080", token: "tok", apiUser: "u", apiPassword: "p"}
	h := api.NewHandler(sess, api.Options{Token: o.token, Addr: o.addr, Mounts: mounts(sess, o, slog.New(slog.DiscardHandler))})
	for _, path := range []string{"/transmission/rpc", "/transmission/rpc/"} {
		for _, tc := range []struct {
			user, pass string
			want       int
		}{{"u", "p", http.StatusConflict}, {"u", "bad", http.StatusUnauthorized}, {"any", "tok", http.StatusConflict}} {
			req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080"+path, strings.NewReader(`{"method":"session-get"}`))
			req.SetBasicAuth(tc.user, tc.pass)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				body, _ := io.ReadAll(rec.Body)
				t.Errorf("%s as %s:%s: HTTP %d, want %d: %s", path, tc.user, tc.pass, rec.Code, tc.want, body)
			}
			if tc.want == http.StatusConflict && rec.Header().Get("X-Transmission-Session-Id") == "" {
				t.Errorf("%s: no session id", path)
			}
		}
	}
}
