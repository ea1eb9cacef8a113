package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/api/apitest"
)

// TestMounts checks that mounted handlers are served behind the guard, and
// that only OwnAuth mounts skip the token.
func TestMounts(t *testing.T) {
	hit := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(name)) })
	}
	h := NewHandler(apitest.New(), Options{Token: "tok", Mounts: []Mount{
		{Pattern: "/own/", Handler: hit("own"), OwnAuth: true},
		{Pattern: "GET /metrics", Handler: hit("metrics")},
	}})
	do := func(method, target, host, origin, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, strings.NewReader("x"))
		req.Host = host
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := do("POST", "/own/rpc", "localhost:8080", "", ""); rec.Code != 200 || rec.Body.String() != "own" {
		t.Errorf("own-auth mount without token: %d %q", rec.Code, rec.Body)
	}
	if rec := do("GET", "/metrics", "localhost:8080", "", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("token mount without token: %d", rec.Code)
	}
	if rec := do("GET", "/metrics", "localhost:8080", "", "tok"); rec.Code != 200 || rec.Body.String() != "metrics" {
		t.Errorf("token mount with token: %d %q", rec.Code, rec.Body)
	}
	if rec := do("POST", "/own/rpc", "evil.example", "", ""); rec.Code != http.StatusForbidden {
		t.Errorf("foreign Host on own-auth mount: %d", rec.Code)
	}
	if rec := do("POST", "/own/rpc", "localhost:8080", "http://evil.example", ""); rec.Code != http.StatusForbidden {
		t.Errorf("foreign Origin on own-auth mount: %d", rec.Code)
	}
	if rec := do("GET", "/api/v1/torrents", "localhost:8080", "", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("API route without token: %d", rec.Code)
	}
}
