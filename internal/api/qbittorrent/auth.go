package qbittorrent

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Login sessions, and the ban of addresses that keep failing.
const (
	// cookieName is qBittorrent's session cookie.
	cookieName = "SID"
	// sessionTimeout is how long an unused login lasts (qBittorrent's
	// default web_ui_session_timeout).
	sessionTimeout = time.Hour
	// maxSessions bounds the logins kept; the least recently used goes
	// first.
	maxSessions = 256
	// maxAuthFails failed logins from one address ban it for banDuration
	// (qBittorrent's web_ui_max_auth_fail_count, with a shorter ban).
	maxAuthFails = 5
	banDuration  = 5 * time.Minute
	// maxFailAddrs bounds the addresses whose failures are counted.
	maxFailAddrs = 1024
)

// authState holds the login sessions.
type authState struct {
	now   func() time.Time
	mu    sync.Mutex
	sids  map[string]time.Time // SID → last use
	fails map[netip.Addr]failCount
}

type failCount struct {
	n     int
	until time.Time // banned until, once n reaches maxAuthFails
}

func newAuthState(now func() time.Time) *authState {
	return &authState{now: now, sids: make(map[string]time.Time), fails: make(map[netip.Addr]failCount)}
}

// newSID makes and records a session.
func (a *authState) newSID() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	sid := base64.RawURLEncoding.EncodeToString(b[:])
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	for k, t := range a.sids {
		if now.Sub(t) > sessionTimeout {
			delete(a.sids, k)
		}
	}
	if len(a.sids) >= maxSessions {
		var oldest string
		var ot time.Time
		for k, t := range a.sids {
			if oldest == "" || t.Before(ot) {
				oldest, ot = k, t
			}
		}
		delete(a.sids, oldest)
	}
	a.sids[sid] = now
	return sid
}

// valid reports whether sid is a live session, and refreshes it.
func (a *authState) valid(sid string) bool {
	if sid == "" {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.sids[sid]
	if !ok {
		return false
	}
	now := a.now()
	if now.Sub(t) > sessionTimeout {
		delete(a.sids, sid)
		return false
	}
	a.sids[sid] = now
	return true
}

func (a *authState) drop(sid string) {
	a.mu.Lock()
	delete(a.sids, sid)
	a.mu.Unlock()
}

// banned reports whether addr may not try to log in now.
func (a *authState) banned(addr netip.Addr) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	f, ok := a.fails[addr]
	if !ok || f.n < maxAuthFails {
		return false
	}
	if a.now().After(f.until) {
		delete(a.fails, addr)
		return false
	}
	return true
}

// failed counts a failed login from addr; ok clears its count.
func (a *authState) result(addr netip.Addr, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ok {
		delete(a.fails, addr)
		return
	}
	if _, seen := a.fails[addr]; !seen && len(a.fails) >= maxFailAddrs {
		now := a.now()
		for k, f := range a.fails {
			if f.n < maxAuthFails || now.After(f.until) {
				delete(a.fails, k)
			}
		}
		if len(a.fails) >= maxFailAddrs {
			return // full of bans: count no further address
		}
	}
	f := a.fails[addr]
	f.n++
	if f.n >= maxAuthFails {
		f.until = a.now().Add(banDuration)
	}
	a.fails[addr] = f
}

// remoteAddr is the client's IP address (unspecified if unparsable).
func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.IPv6Unspecified()
	}
	return a.Unmap()
}

// authorized reports whether r may use the API: no credentials are
// configured, it comes from loopback with the bypass on, or it carries a
// live session cookie.
func (h *Handler) authorized(r *http.Request) bool {
	if !h.opts.Credentials.Required() {
		return true
	}
	if h.opts.BypassLocal && remoteAddr(r).IsLoopback() {
		return true
	}
	c, err := r.Cookie(cookieName)
	return err == nil && h.auth.valid(c.Value)
}

// login checks the form's username and password and starts a session.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		text(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	addr := remoteAddr(r)
	if h.auth.banned(addr) {
		text(w, http.StatusForbidden, "Your IP address has been banned after too many failed authentication attempts.")
		return
	}
	f, err := readForm(w, r)
	if err != nil {
		text(w, http.StatusBadRequest, err.Error())
		return
	}
	good := h.opts.Credentials.Check(f.get("username"), f.get("password"))
	if h.opts.Credentials.Required() {
		h.auth.result(addr, good)
	}
	if !good {
		text(w, http.StatusOK, "Fails.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: h.auth.newSID(), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
	text(w, http.StatusOK, "Ok.")
}

// logout ends the session of the request's cookie.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request, _ *form) {
	if c, err := r.Cookie(cookieName); err == nil {
		h.auth.drop(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	answerOK(w)
}
