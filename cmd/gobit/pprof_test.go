package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWithPprof(t *testing.T) {
	apiH := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api") })
	tests := []struct {
		name     string
		on       bool
		token    string
		path     string
		header   string // Authorization header value
		wantCode int
		wantBody string // substring
	}{
		{"off passes profiles to the API", false, "", "/debug/pprof/", "", 200, "api"},
		{"on serves the index", true, "", "/debug/pprof/", "", 200, "goroutine"},
		{"on serves a profile", true, "", "/debug/pprof/cmdline", "", 200, ""},
		{"on keeps the API", true, "", "/api/v1/torrents", "", 200, "api"},
		{"token missing", true, "s3cret", "/debug/pprof/", "", 401, "token"},
		{"token wrong", true, "s3cret", "/debug/pprof/", "Bearer nope", 401, "token"},
		{"token right", true, "s3cret", "/debug/pprof/", "Bearer s3cret", 200, "goroutine"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			rec := httptest.NewRecorder()
			withPprof(tc.on, tc.token, apiH).ServeHTTP(rec, req)
			if rec.Code != tc.wantCode || !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Fatalf("GET %s: %d %q, want %d containing %q", tc.path, rec.Code, rec.Body.String(), tc.wantCode, tc.wantBody)
			}
		})
	}
}

func TestProfileOptionsWriteFiles(t *testing.T) {
	dir := t.TempDir()
	p := profileOptions{cpu: filepath.Join(dir, "cpu.pprof"), mem: filepath.Join(dir, "heap.pprof")}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	p.stop(&stderr)
	if stderr.Len() != 0 {
		t.Fatalf("stop reported: %s", stderr.String())
	}
	for _, name := range []string{p.cpu, p.mem} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() == 0 {
			t.Fatalf("%s is empty", name)
		}
	}
	bad := profileOptions{cpu: filepath.Join(dir, "missing", "cpu.pprof")}
	if err := bad.start(); err == nil {
		t.Fatal("start with an unwritable CPU profile path succeeded")
	}
}
