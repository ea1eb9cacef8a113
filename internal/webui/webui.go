package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// Prefix is the URL path under which the UI's assets are served.
const Prefix = "/ui/"

// CSP is the Content-Security-Policy sent with every answer of Handler.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// contentTypes maps the file extensions of the embedded files to their
// Content-Type, independent of the system's MIME tables.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".json": "application/json",
}

// file is one embedded file ready to serve.
type file struct {
	data  []byte
	ctype string
	etag  string
}

// handler serves the embedded files.
type handler struct {
	files map[string]file // by URL path: "/" and "/ui/…"
}

// Handler returns the http.Handler that serves the UI: index.html at "/",
// the other embedded files at Prefix+name. Other paths get 404; methods
// other than GET and HEAD get 405.
func Handler() http.Handler {
	h := &handler{files: map[string]file{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		f := file{data: data, ctype: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		rel := strings.TrimPrefix(p, "static/")
		h.files[Prefix+rel] = f
		if rel == "index.html" {
			h.files["/"] = f
		}
		return nil
	})
	if err != nil {
		panic("webui: reading embedded files: " + err.Error()) // the embed is fixed at build time
	}
	return h
}

// IsAsset reports whether r asks for one of the UI's static files ("/" or a
// path under Prefix) with GET or HEAD; those need no API token.
func IsAsset(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	return r.URL.Path == "/" || strings.HasPrefix(r.URL.Path, Prefix)
}

// SetSecurityHeaders sets the headers every UI answer carries.
func SetSecurityHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	SetSecurityHeaders(w.Header())
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f, ok := h.files[r.URL.Path]
	if !ok {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("ETag", f.etag)
	// index.html names the assets without a version, so the browser must
	// revalidate everything; the ETag makes that a 304.
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.data))
}
