package api

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gobit/gobit/internal/webui"
)

// auth rejects requests without the configured token. Both sides are hashed
// before the constant-time comparison so that the token's length does not
// leak through timing either. The web UI's static files (webui.IsAsset) need
// no token: they hold no data, and the page must load to ask for the token.
// Nor does a GET or HEAD of a file's stream with a valid stream ticket for
// that file (ticket.go), which is how a <video src> plays it.
func (h *handler) auth(next http.Handler) http.Handler {
	if h.opts.Token == "" {
		return next
	}
	want := sha256.Sum256([]byte(h.opts.Token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if webui.IsAsset(r) {
			next.ServeHTTP(w, r)
			return
		}
		got, ok := requestToken(r)
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			if h.tickets.ticketAllows(r) {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="gobit"`)
			msg := "missing API token: send Authorization: Bearer <token>"
			if ok {
				msg = "wrong API token"
			}
			writeError(w, http.StatusUnauthorized, msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requestToken extracts the token from "Authorization: Bearer <token>" or,
// failing that, from the X-Gobit-Token header.
func requestToken(r *http.Request) (string, bool) {
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, tok, found := strings.Cut(a, " ")
		if found && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok), true
		}
	}
	if tok := r.Header.Get(TokenHeader); tok != "" {
		return tok, true
	}
	return "", false
}

// limitBody caps every request body at MaxBodyBytes. A request whose
// declared length is already too large is refused before any handler runs.
func (h *handler) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > h.opts.MaxBodyBytes {
			writeError(w, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("%v: limit is %d bytes", ErrTooLarge, h.opts.MaxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic in a handler into a 500 JSON error instead of
// a dropped connection, and logs it.
func (h *handler) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				h.log.Error("api: handler panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				writeError(w, http.StatusInternalServerError, "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests logs one debug record per request: method, path, status,
// bytes written and duration. The query string is left out: it carries
// stream tickets (ticket.go), which stand in for the token, and the
// Authorization header is never logged either.
func (h *handler) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		h.log.LogAttrs(r.Context(), slog.LevelDebug, "api request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote", r.RemoteAddr),
		)
	})
}

// captureWriter buffers a response so that the mux's plain-text 404 and 405
// replies can be rewritten as JSON.
type captureWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *captureWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.body.Len() < 4096 {
		c.body.Write(p)
	}
	return len(p), nil
}

// jsonFallbacks serves the requests no route matches. The mux's own
// responses (404, 405 with Allow, or a redirect to a cleaned path) are
// captured; 404 and 405 are rewritten as JSON errors, anything else is
// passed through.
func jsonFallbacks(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		c := &captureWriter{header: make(http.Header)}
		hd.ServeHTTP(c, r)
		switch c.status {
		case http.StatusNotFound:
			writeError(w, http.StatusNotFound, "no such route: "+r.Method+" "+r.URL.Path)
		case http.StatusMethodNotAllowed:
			if allow := c.header.Get("Allow"); allow != "" {
				w.Header().Set("Allow", allow)
			}
			writeError(w, http.StatusMethodNotAllowed,
				"method "+r.Method+" not allowed on "+r.URL.Path)
		default:
			for k, v := range c.header {
				w.Header()[k] = v
			}
			if c.status == 0 {
				c.status = http.StatusOK
			}
			w.WriteHeader(c.status)
			_, _ = w.Write(c.body.Bytes())
		}
	})
}
