package api

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// AllowedHostsFlag is the daemon flag that extends the Host allow list;
// the API's 403 answers name it.
const AllowedHostsFlag = "--api-allowed-hosts"

// AllowedOriginsFlag is the daemon flag that lets named origins (browser
// extensions, a web UI served elsewhere) change state; the API's
// cross-origin 403 answers name it.
const AllowedOriginsFlag = "--api-allowed-origins"

// Guard returns next wrapped in the API's browser defences, configured by
// opts.Addr and opts.AllowedHosts (the other fields are ignored):
//
//   - the Host check: a request whose Host header names neither a loopback
//     host, nor the host of opts.Addr, nor an entry of opts.AllowedHosts is
//     refused with 403, which defeats DNS rebinding;
//   - the cross-site check: a request that may change state (any method but
//     GET, HEAD and OPTIONS) carrying an Origin header other than the API's
//     own origin, or a Sec-Fetch-Site header other than "same-origin" or
//     "none", is refused with 403, which defeats cross-site request forgery;
//   - an origin of opts.AllowedOrigins passes the cross-site check, its
//     preflight requests (OPTIONS with Access-Control-Request-Method) are
//     answered with 204 and the CORS headers, and every answer to it carries
//     Access-Control-Allow-Origin naming it (never "*").
//
// NewHandler applies Guard itself; the daemon also wraps whatever else it
// serves on the API's address (the profiles of --pprof) in it.
//
// Each refusal is logged at debug level to opts.Logger, with the request's
// method, path, Host, Origin and Sec-Fetch-Site.
func Guard(opts Options, next http.Handler) http.Handler {
	return guard(opts, opts.Logger, next)
}

// guard is Guard logging refusals to log (nil: not at all).
func guard(opts Options, log *slog.Logger, next http.Handler) http.Handler {
	p := newHostPolicy(opts.Addr, opts.AllowedHosts)
	origins := newOriginSet(opts.AllowedOrigins)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msg := ""
		if !p.allows(r.Host) {
			msg = fmt.Sprintf("Host %q is not allowed: the API answers to localhost, loopback addresses and the host of --addr; "+
				"to reach it by another name, add the name to %s (\"*\" turns this check off, for reverse proxies)",
				truncate(r.Host, 100), AllowedHostsFlag)
		} else if origin := r.Header.Get("Origin"); origin != "" && origins[strings.ToLower(origin)] {
			if corsAnswer(w, r, origin) {
				return
			}
		} else {
			msg = crossSite(r)
		}
		if msg == "" {
			next.ServeHTTP(w, r)
			return
		}
		if log != nil {
			log.LogAttrs(r.Context(), slog.LevelDebug, "api request refused",
				slog.String("method", r.Method),
				slog.String("path", truncate(r.URL.Path, 200)),
				slog.String("host", truncate(r.Host, 100)),
				slog.String("origin", truncate(r.Header.Get("Origin"), 100)),
				slog.String("sec_fetch_site", truncate(r.Header.Get("Sec-Fetch-Site"), 40)),
				slog.Int("status", http.StatusForbidden),
				slog.String("remote", r.RemoteAddr),
			)
		}
		writeError(w, http.StatusForbidden, msg)
	})
}

// ValidateAllowedHosts checks the entries of an allow list for
// Options.AllowedHosts: each is "*", a host name, an IP address (IPv6 with
// or without brackets), or "*." followed by a domain (that domain's
// subdomains). Ports are not part of an entry.
func ValidateAllowedHosts(hosts []string) error {
	for _, e := range hosts {
		e = strings.TrimSpace(e)
		if e == "" || e == "*" {
			continue
		}
		name := strings.TrimPrefix(e, "*.")
		if b, ok := strings.CutPrefix(name, "["); ok && strings.HasSuffix(b, "]") {
			if ip, ok := parseIP(strings.TrimSuffix(b, "]")); !ok || !ip.Is6() || name != e {
				return fmt.Errorf("allowed host %q: want an IPv6 address inside the brackets", e)
			}
			continue
		}
		if _, ok := parseIP(name); ok {
			if name != e {
				return fmt.Errorf("allowed host %q: a wildcard cannot apply to an IP address", e)
			}
			continue
		}
		if !validHostName(name) {
			return fmt.Errorf("allowed host %q: want a host name, an IP address, \"*.domain\" or \"*\" (no port, no scheme)", e)
		}
	}
	return nil
}

// validHostName reports whether s looks like a DNS name: labels of
// letters, digits, '-' and '_', separated by single dots, an optional
// trailing dot.
func validHostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				return false
			}
		}
	}
	return true
}

// hostPolicy decides which Host headers the API answers.
type hostPolicy struct {
	off      bool            // "*" was in the allow list
	anyIP    bool            // the API binds a wildcard address
	exact    map[string]bool // canonical names and IP addresses
	suffixes []string        // ".example.com" for an entry "*.example.com"
}

// newHostPolicy builds the policy for an API listening on addr (host:port,
// or a bare host) with the extra allowed hosts. Invalid entries never match
// (ValidateAllowedHosts reports them to the user).
func newHostPolicy(addr string, allowed []string) *hostPolicy {
	p := &hostPolicy{exact: map[string]bool{}}
	if addr != "" {
		host := addr
		if h, _, err := net.SplitHostPort(addr); err == nil {
			host = h
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		if ip, ok := parseIP(host); ok && ip.IsUnspecified() || host == "" {
			p.anyIP = true
		} else if host != "" {
			p.exact[canonicalHost(host)] = true
		}
	}
	for _, e := range allowed {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
		case e == "*":
			p.off = true
		case strings.HasPrefix(e, "*."):
			p.suffixes = append(p.suffixes, canonicalHost(e[1:]))
		default:
			p.exact[canonicalHost(strings.TrimSuffix(strings.TrimPrefix(e, "["), "]"))] = true
		}
	}
	return p
}

// allows reports whether a request with Host header hostHeader is served.
//
// The rules: everything when the allow list holds "*"; an empty Host (an
// HTTP/1.0 request, which no browser sends); "localhost" and its
// subdomains (browsers resolve those to loopback themselves, RFC 6761);
// any loopback IP address (127.0.0.0/8, ::1); the host of --addr; the
// entries of the allow list; and, when the API binds a wildcard address
// (0.0.0.0 or ::), any IP address, since a literal address cannot be
// rebound by DNS and is how other machines on the LAN reach it. Any other
// name is refused however it resolves: that is what stops DNS rebinding.
// The port is not checked.
func (p *hostPolicy) allows(hostHeader string) bool {
	if p.off || hostHeader == "" {
		return true
	}
	host, ok := splitHostHeader(hostHeader)
	if !ok {
		return false
	}
	if ip, ok := parseIP(host); ok {
		return ip.IsLoopback() || p.anyIP || p.exact[ip.String()]
	}
	host = canonicalHost(host)
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || p.exact[host] {
		return true
	}
	for _, s := range p.suffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// splitHostHeader returns the host part of a Host header ("name",
// "name:port", "1.2.3.4:port", "[::1]:port"), brackets removed. ok is false
// for a malformed header (a bad port, an unbracketed IPv6 address).
func splitHostHeader(h string) (host string, ok bool) {
	port := ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return "", false
		}
		host, port = h[1:end], h[end+1:]
		if port != "" {
			if port[0] != ':' {
				return "", false
			}
			port = port[1:]
		}
		if _, ok := parseIP(host); !ok || !strings.Contains(host, ":") {
			return "", false
		}
	} else {
		var found bool
		host, port, found = strings.Cut(h, ":")
		if found && strings.Contains(port, ":") {
			return "", false
		}
		if found && port == "" {
			return "", false
		}
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	if len(port) > 5 || host == "" {
		return "", false
	}
	return host, true
}

// parseIP parses an IP address literal, unmapping IPv4-in-IPv6.
func parseIP(s string) (netip.Addr, bool) {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

// canonicalHost lower-cases a host name and drops a trailing dot; an IP
// address is written in its canonical form.
func canonicalHost(h string) string {
	if ip, ok := parseIP(h); ok {
		return ip.String()
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// safeMethod reports whether a method only reads: the API changes nothing
// on GET, HEAD or OPTIONS, whoever sends them (and, sending no CORS
// headers, lets no other origin's page read the answers).
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// crossSite returns why a state-changing request that a browser sent from
// another origin is refused, or "" when it is not refused. Browsers send
// Origin with every POST, PUT, PATCH and DELETE (also with "no-cors"
// fetches and form submissions, which need no preflight) and modern ones
// Sec-Fetch-Site too; curl, scripts and gobit's CLI send neither, so they
// pass.
//
// Sec-Fetch-Site passes only as "same-origin" or "none" (typed by the
// user); "same-site" is refused too, since another port or subdomain of the
// same site is another origin. An Origin passes only when it is this API's
// own origin: same host as the request's Host header and same port (an
// absent port is the default of the Origin's scheme). "null" (sandboxed
// frames, file: pages, cross-origin redirects) never passes.
func crossSite(r *http.Request) string {
	if safeMethod(r.Method) {
		return ""
	}
	if sfs := r.Header.Get("Sec-Fetch-Site"); sfs != "" && sfs != "same-origin" && sfs != "none" {
		return fmt.Sprintf("cross-site request refused (Sec-Fetch-Site: %s): a web page of another site may not "+
			"change gobit's state; use gobit's CLI, curl or a script", truncate(sfs, 40))
	}
	if origin := r.Header.Get("Origin"); origin != "" && !sameOrigin(origin, r.Host) {
		return fmt.Sprintf("cross-origin request refused (Origin: %s is not this API's origin, http://%s): "+
			"a web page of another origin may not change gobit's state; use gobit's CLI, curl or a script, "+
			"or name a browser extension's or another web UI's origin in %s",
			truncate(origin, 100), truncate(r.Host, 100), AllowedOriginsFlag)
	}
	return ""
}

// sameOrigin reports whether an Origin header names the origin a request
// with Host header host was sent to.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	defPort := "80"
	if u.Scheme == "https" {
		defPort = "443"
	}
	oHost, oPort, ok := hostPort(u.Host, defPort)
	if !ok {
		return false
	}
	rHost, rPort, ok := hostPort(host, defPort)
	return ok && oHost == rHost && oPort == rPort
}

// hostPort splits a host[:port] into its canonical host and its port,
// defPort when absent.
func hostPort(hp, defPort string) (host, port string, ok bool) {
	host, ok = splitHostHeader(hp)
	if !ok {
		return "", "", false
	}
	port = defPort
	if i := strings.LastIndexByte(hp, ':'); i >= 0 && !strings.HasSuffix(hp, "]") {
		port = strings.TrimLeft(hp[i+1:], "0")
		if port == "" {
			port = "0"
		}
	}
	return canonicalHost(host), port, true
}

// CORS answers for the origins of Options.AllowedOrigins.
const (
	corsMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
	// corsHeaders are the request headers the APIs use: the token or
	// Basic auth, JSON bodies, Transmission's session id, and Range for
	// streams.
	corsHeaders = "Authorization, Content-Type, X-Transmission-Session-Id, Range"
	// corsExpose are the answer headers a client script must read:
	// Transmission's session id handshake, list paging, stream ranges.
	corsExpose = "X-Transmission-Session-Id, X-Total-Count, Content-Range, Content-Length, Accept-Ranges"
	corsMaxAge = "600"
)

// corsAnswer adds the CORS headers for an allowed origin and, for a
// preflight request, answers it; it reports whether it did.
func corsAnswer(w http.ResponseWriter, r *http.Request, origin string) bool {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", corsExpose)
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Set("Access-Control-Allow-Methods", corsMethods)
	h.Set("Access-Control-Allow-Headers", corsHeaders)
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
	return true
}

// originSet holds the allowed origins, as browsers send them.
type originSet map[string]bool

// newOriginSet builds the set from Options.AllowedOrigins; invalid
// entries (ValidateAllowedOrigins reports them) never match, nor does
// "null".
func newOriginSet(list []string) originSet {
	m := originSet{}
	for _, e := range list {
		e = strings.TrimSpace(e)
		if o, err := canonicalOrigin(e); err == nil {
			m[o] = true
		}
	}
	return m
}

// ValidateAllowedOrigins checks the entries of Options.AllowedOrigins:
// each must be an origin as a browser sends it in the Origin header, a
// scheme and a host with an optional port, with no path, query, user or
// wildcard (chrome-extension://abcdefghijklmnopabcdefghijklmnop,
// moz-extension://<uuid>, https://ui.example.org:8443).
func ValidateAllowedOrigins(list []string) error {
	for _, e := range list {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if _, err := canonicalOrigin(e); err != nil {
			return fmt.Errorf("allowed origin %q: %w", e, err)
		}
	}
	return nil
}

// canonicalOrigin returns e as browsers serialise an origin (lower-case
// scheme and host, no trailing slash), or why it is not one.
func canonicalOrigin(e string) (string, error) {
	if e == "*" || e == "null" {
		return "", fmt.Errorf("want one origin, not %q: every page could then drive the daemon", e)
	}
	u, err := url.Parse(strings.TrimSuffix(e, "/"))
	if err != nil {
		return "", fmt.Errorf("not a URL: %w", err)
	}
	switch {
	case u.Scheme == "" || u.Host == "" || u.Opaque != "":
		return "", fmt.Errorf("want scheme://host[:port], such as chrome-extension://<id> or https://ui.example.org")
	case u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", fmt.Errorf("an origin has no user, path, query or fragment")
	case strings.Contains(u.Host, "*"):
		return "", fmt.Errorf("wildcards are not allowed in an origin")
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	// Browsers leave out a scheme's default port.
	if scheme == "https" {
		host = strings.TrimSuffix(host, ":443")
	} else if scheme == "http" {
		host = strings.TrimSuffix(host, ":80")
	}
	return scheme + "://" + host, nil
}
