package tracker

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxErrorSnippet bounds how much of an error response body goes into an
// error message.
const maxErrorSnippet = 128

// httpAnnounce sends an HTTP announce (BEP 3) and parses the answer.
func (c *Client) httpAnnounce(ctx context.Context, u *url.URL, req AnnounceRequest) (*AnnounceResponse, error) {
	body, err := c.httpGet(ctx, announceURL(u, req))
	if err != nil {
		return nil, err
	}
	return parseHTTPAnnounce(body)
}

// httpScrape sends an HTTP scrape (BEP 48) for hashes and parses the answer.
func (c *Client) httpScrape(ctx context.Context, u *url.URL, hashes [][20]byte) (map[[20]byte]ScrapeResult, error) {
	su, err := scrapeURL(u, hashes)
	if err != nil {
		return nil, err
	}
	body, err := c.httpGet(ctx, su)
	if err != nil {
		return nil, err
	}
	return parseHTTPScrape(body)
}

// httpGet fetches rawURL and returns its body, at most MaxResponseSize bytes.
func (c *Client) httpGet(ctx context.Context, rawURL string) ([]byte, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	if c.cfg.UserAgent != "" {
		hreq.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	// Trackers answer with bencode; compression saves little and costs a
	// decompressor on hostile input, so ask for identity.
	hreq.Header.Set("Accept-Encoding", "identity")
	resp, err := c.http.Do(hreq)
	if err != nil {
		// The error from net/http repeats the URL, passkey included; keep
		// only its cause.
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return nil, fmt.Errorf("http get: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponseSize+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		snippet := body[:min(len(body), maxErrorSnippet)]
		return nil, fmt.Errorf("http status %s: %q", resp.Status, sanitizeMessage(snippet))
	}
	if int64(len(body)) > c.cfg.MaxResponseSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, c.cfg.MaxResponseSize)
	}
	return body, nil
}

// announceURL returns the announce URL u with req's parameters appended to
// its query (after '&' if it already has one).
func announceURL(u *url.URL, req AnnounceRequest) string {
	var b strings.Builder
	b.WriteString("info_hash=")
	b.WriteString(escapeBytes(req.InfoHash[:]))
	b.WriteString("&peer_id=")
	b.WriteString(escapeBytes(req.PeerID[:]))
	b.WriteString("&port=")
	b.WriteString(strconv.FormatUint(uint64(req.Port), 10))
	b.WriteString("&uploaded=")
	b.WriteString(strconv.FormatInt(max(req.Uploaded, 0), 10))
	b.WriteString("&downloaded=")
	b.WriteString(strconv.FormatInt(max(req.Downloaded, 0), 10))
	b.WriteString("&left=")
	b.WriteString(strconv.FormatInt(max(req.Left, 0), 10))
	b.WriteString("&compact=1")
	switch req.Event {
	case EventCompleted, EventStarted, EventStopped:
		b.WriteString("&event=")
		b.WriteString(req.Event.String())
	}
	if req.NumWant >= 0 {
		b.WriteString("&numwant=")
		b.WriteString(strconv.Itoa(req.NumWant))
	}
	b.WriteString("&key=")
	b.WriteString(fmt.Sprintf("%08X", req.Key))
	if req.IPv6.Is6() && !req.IPv6.Is4In6() {
		// BEP 7: our IPv6 address (the port is the port parameter's).
		b.WriteString("&ipv6=")
		b.WriteString(url.QueryEscape(req.IPv6.WithZone("").String()))
	}
	if req.TrackerID != "" {
		b.WriteString("&trackerid=")
		b.WriteString(escapeBytes([]byte(req.TrackerID)))
	}
	return withQuery(u, b.String())
}

// scrapeURL derives the scrape URL from the announce URL u (BEP 48): the
// text "announce" right after the path's last '/' becomes "scrape". Each
// hash is appended as an info_hash parameter.
func scrapeURL(u *url.URL, hashes [][20]byte) (string, error) {
	ep := u.EscapedPath()
	i := strings.LastIndexByte(ep, '/')
	if i < 0 || !strings.HasPrefix(ep[i+1:], "announce") {
		return "", ErrScrapeUnsupported
	}
	newEP := ep[:i+1] + "scrape" + ep[i+1+len("announce"):]
	p, err := url.PathUnescape(newEP)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	su := *u
	su.Path, su.RawPath = p, newEP
	var b strings.Builder
	for i, h := range hashes {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString("info_hash=")
		b.WriteString(escapeBytes(h[:]))
	}
	return withQuery(&su, b.String()), nil
}

// withQuery appends query to u's existing query string.
func withQuery(u *url.URL, query string) string {
	v := *u
	v.Fragment, v.RawFragment = "", ""
	switch {
	case query == "":
	case v.RawQuery == "":
		v.RawQuery = query
	default:
		v.RawQuery = strings.TrimSuffix(v.RawQuery, "&") + "&" + query
	}
	return v.String()
}

// escapeBytes percent-encodes raw bytes for a query string: RFC 3986
// unreserved characters stay literal, every other byte becomes %XX.
func escapeBytes(b []byte) string {
	const hex = "0123456789ABCDEF"
	var s strings.Builder
	s.Grow(3 * len(b))
	for _, c := range b {
		if isUnreserved(c) {
			s.WriteByte(c)
			continue
		}
		s.WriteByte('%')
		s.WriteByte(hex[c>>4])
		s.WriteByte(hex[c&15])
	}
	return s.String()
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
