package trackertest

import (
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
)

// handleHTTPAnnounce answers GET /announce (BEP 3) with a compact peer list.
func (tr *Tracker) handleHTTPAnnounce(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeFailure(w, "bad query: "+err.Error())
		return
	}
	ih, pid := q.Get("info_hash"), q.Get("peer_id")
	if len(ih) != 20 || len(pid) != 20 {
		writeFailure(w, "info_hash and peer_id must be 20 bytes")
		return
	}
	port, err := parsePort(q.Get("port"))
	if err != nil {
		writeFailure(w, err.Error())
		return
	}
	remote, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		writeFailure(w, "bad remote address")
		return
	}
	a := Announce{
		Proto:     "http",
		InfoHash:  [20]byte([]byte(ih)),
		PeerID:    [20]byte([]byte(pid)),
		Peer:      netip.AddrPortFrom(remote.Addr().Unmap(), port),
		Event:     q.Get("event"),
		NumWant:   -1,
		Key:       q.Get("key"),
		TrackerID: q.Get("trackerid"),
		IPv6:      q.Get("ipv6"),
	}
	a.Uploaded, _ = strconv.ParseInt(q.Get("uploaded"), 10, 64)
	a.Downloaded, _ = strconv.ParseInt(q.Get("downloaded"), 10, 64)
	a.Left, _ = strconv.ParseInt(q.Get("left"), 10, 64)
	if n, err := strconv.Atoi(q.Get("numwant")); err == nil {
		a.NumWant = n
	}
	ans := tr.announce(a)
	if ans.failure != "" {
		writeFailure(w, ans.failure)
		return
	}
	d := dict{
		"interval":   ans.interval,
		"complete":   int64(ans.seeders),
		"incomplete": int64(ans.leechers),
		"peers":      compact(ans.peers4),
	}
	if ans.minInterval > 0 {
		d["min interval"] = ans.minInterval
	}
	if len(ans.peers6) > 0 {
		d["peers6"] = compact(ans.peers6)
	}
	if ans.trackerID != "" {
		d["tracker id"] = ans.trackerID
	}
	w.Write(encode(d))
}

// handleHTTPScrape answers GET /scrape (BEP 48).
func (tr *Tracker) handleHTTPScrape(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeFailure(w, "bad query: "+err.Error())
		return
	}
	var hashes [][20]byte
	for _, h := range q["info_hash"] {
		if len(h) != 20 {
			writeFailure(w, "info_hash must be 20 bytes")
			return
		}
		hashes = append(hashes, [20]byte([]byte(h)))
	}
	counts, failure := tr.scrapeCounts(hashes)
	if failure != "" {
		writeFailure(w, failure)
		return
	}
	files := dict{}
	for h, c := range counts {
		files[string(h[:])] = dict{"complete": int64(c[0]), "downloaded": int64(c[1]), "incomplete": int64(c[2])}
	}
	w.Write(encode(dict{"files": files}))
}

func writeFailure(w http.ResponseWriter, reason string) {
	w.Write(encode(dict{"failure reason": reason}))
}

// compact encodes peers as BEP 23 / BEP 7 compact entries (6 or 18 bytes).
func compact(peers []netip.AddrPort) string {
	var b []byte
	for _, p := range peers {
		b = append(b, p.Addr().AsSlice()...)
		b = append(b, byte(p.Port()>>8), byte(p.Port()))
	}
	return string(b)
}
