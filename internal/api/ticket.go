package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// StreamTicketTTL is how long a stream ticket stays valid: long enough to
// watch a film with pauses, short enough that a URL copied out of the page
// soon stops working.
const StreamTicketTTL = 6 * time.Hour

// StreamTicketParam is the query parameter that carries a stream ticket.
const StreamTicketParam = "ticket"

// maxTicketLen bounds the ticket the middleware is willing to look at.
const maxTicketLen = 128

// StreamTicket is the answer of POST
// /api/v1/torrents/{infohash}/files/{index}/stream-ticket.
//
// A <video> or <audio> element (or a link opened in a new tab) cannot send
// an Authorization header, so with --api-token set it could not play a
// stream. The ticket in URL stands in for the token, for GET and HEAD of
// that one file's stream and nothing else, until Expires. It is an HMAC
// over the info hash, the file index and the expiry time with a key drawn
// at random when the daemon starts, so it cannot be forged, and every
// ticket dies with the daemon. The request log leaves query strings out,
// so tickets are never logged.
type StreamTicket struct {
	// URL is the stream's path with the ticket as its query string,
	// relative to the daemon's address.
	URL string `json:"url"`
	// Expires is when the ticket stops working (RFC 3339).
	Expires time.Time `json:"expires"`
}

// ticketKey signs and checks stream tickets.
type ticketKey struct {
	key [32]byte
	now func() time.Time
}

func newTicketKey() *ticketKey {
	k := &ticketKey{now: time.Now}
	if _, err := rand.Read(k.key[:]); err != nil {
		panic("api: no randomness for the stream ticket key: " + err.Error()) // crypto/rand never fails on supported systems
	}
	return k
}

// mac returns the ticket's signature over hash, index and expiry.
func (k *ticketKey) mac(hash string, index int, expiry int64) []byte {
	m := hmac.New(sha256.New, k.key[:])
	fmt.Fprintf(m, "gobit stream ticket\x00%s\x00%d\x00%d", hash, index, expiry)
	return m.Sum(nil)
}

// sign returns a ticket for the stream of file index of the torrent hash
// (lower-case hex) that expires at expiry.
func (k *ticketKey) sign(hash string, index int, expiry time.Time) string {
	e := expiry.Unix()
	return strconv.FormatInt(e, 10) + "." + base64.RawURLEncoding.EncodeToString(k.mac(hash, index, e))
}

// valid reports whether ticket grants the stream of file index of hash now.
func (k *ticketKey) valid(ticket, hash string, index int) bool {
	if len(ticket) > maxTicketLen {
		return false
	}
	es, sig, ok := strings.Cut(ticket, ".")
	if !ok {
		return false
	}
	e, err := strconv.ParseInt(es, 10, 64)
	if err != nil || strconv.FormatInt(e, 10) != es {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, k.mac(hash, index, e)) {
		return false
	}
	return k.now().Unix() < e
}

// streamPath splits the path of a stream request,
// /api/v1/torrents/{infohash}/files/{index}/stream, into its lower-case
// info hash and file index; ok is false for any other path.
func streamPath(p string) (hash string, index int, ok bool) {
	rest, found := strings.CutPrefix(p, "/api/v1/torrents/")
	if !found {
		return "", 0, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 4 || parts[1] != "files" || parts[3] != "stream" {
		return "", 0, false
	}
	hash, err := ParseInfoHash(parts[0])
	if err != nil {
		return "", 0, false
	}
	index, err = strconv.Atoi(parts[2])
	if err != nil || index < 0 || strconv.Itoa(index) != parts[2] {
		return "", 0, false
	}
	return hash, index, true
}

// ticketAllows reports whether r is a GET or HEAD of a file's stream that
// carries a valid ticket for that very file.
func (k *ticketKey) ticketAllows(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if !strings.Contains(r.URL.RawQuery, StreamTicketParam+"=") {
		return false
	}
	hash, index, ok := streamPath(r.URL.Path)
	if !ok {
		return false
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return false
	}
	vs := q[StreamTicketParam]
	return len(vs) == 1 && k.valid(vs[0], hash, index)
}

// streamTicket serves POST
// /api/v1/torrents/{infohash}/files/{index}/stream-ticket: a StreamTicket
// for a file of a torrent the daemon has.
func (h *handler) streamTicket(w http.ResponseWriter, r *http.Request) {
	ih, err := ParseInfoHash(r.PathValue("infohash"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	raw := r.PathValue("index")
	index, err := strconv.Atoi(raw)
	if err != nil || index < 0 || strconv.Itoa(index) != raw {
		h.fail(w, r, badRequest("file index %q is not a number from 0", truncate(raw, 20)))
		return
	}
	d, err := h.b.Get(ih)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// Before the metadata the files are not known; the stream waits for
	// them, so the ticket is given all the same.
	if len(d.Files) > 0 && index >= len(d.Files) {
		h.fail(w, r, &httpError{status: http.StatusNotFound,
			msg: fmt.Sprintf("torrent %s has no file %d (it has %d)", ih, index, len(d.Files))})
		return
	}
	expires := h.tickets.now().Add(StreamTicketTTL).Truncate(time.Second)
	u := fmt.Sprintf("/api/v1/torrents/%s/files/%d/stream?%s=%s", ih, index, StreamTicketParam,
		url.QueryEscape(h.tickets.sign(ih, index, expires)))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, StreamTicket{URL: u, Expires: expires.UTC()})
}
