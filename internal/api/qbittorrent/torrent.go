package qbittorrent

import (
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gobit/gobit/internal/session"
)

// The routes that read one torrent, named by the "hash" parameter.

// detail looks up the torrent of the hash parameter, answering 404 when
// there is none.
func (h *Handler) detail(w http.ResponseWriter, f *form) (session.Detail, bool) {
	hash := strings.ToLower(strings.TrimSpace(f.get("hash")))
	if hash == "" {
		text(w, http.StatusBadRequest, "Bad Request")
		return session.Detail{}, false
	}
	d, err := h.sess.Get(hash)
	if err != nil {
		if errors.Is(err, session.ErrInvalid) {
			text(w, http.StatusNotFound, "Not Found")
			return d, false
		}
		sessionError(w, err)
		return d, false
	}
	return d, true
}

// limitOrNone is a per-torrent rate limit as properties reports it: -1 for
// none.
func limitOrNone(v int64) int64 {
	if v <= 0 {
		return -1
	}
	return v
}

// properties answers torrents/properties.
func (h *Handler) properties(w http.ResponseWriter, _ *http.Request, f *form) {
	d, ok := h.detail(w, f)
	if !ok {
		return
	}
	now := h.now()
	x := h.sess.Extras()[d.InfoHash]
	md, err := h.sess.Meta(d.InfoHash)
	haveMeta := err == nil
	elapsed := max(int64(now.Sub(d.AddedAt)/time.Second), 0)
	avg := func(n int64) int64 {
		if elapsed == 0 {
			return 0
		}
		return n / elapsed
	}
	completion, created := int64(-1), int64(-1)
	done := completedAt(d.Status, x)
	if !done.IsZero() {
		completion = done.Unix()
	}
	if !md.CreationDate.IsZero() {
		created = md.CreationDate.Unix()
	}
	_, seeding := h.clocks(d.Status, done, now)
	havePieces := 0
	if pm, err := h.sess.Pieces(d.InfoHash); err == nil {
		for i := range pm.Pieces {
			if pm.Have[i/8]&(0x80>>(i%8)) != 0 {
				havePieces++
			}
		}
	}
	eta := int64(etaInfinity)
	if !complete(d.Status) && d.ETASeconds > 0 {
		eta = d.ETASeconds
	}
	seedsTotal, peersTotal := d.Seeds, d.Peers-d.Seeds
	for _, tr := range d.Trackers {
		seedsTotal, peersTotal = max(seedsTotal, tr.Seeders), max(peersTotal, tr.Leechers)
	}
	reannounce := int64(0)
	for _, tr := range d.Trackers {
		if !tr.NextTime.IsZero() {
			if s := int64(tr.NextTime.Sub(now) / time.Second); s > 0 && (reannounce == 0 || s < reannounce) {
				reannounce = s
			}
		}
	}
	totalSize := d.TotalSize
	if !haveMeta && d.TotalSize == 0 {
		totalSize = -1
	}
	writeJSON(w, map[string]any{
		"hash": d.InfoHash, "infohash_v1": d.InfoHash, "infohash_v2": "", "name": d.Name,
		"save_path": d.SaveDir, "download_path": "",
		"creation_date": created, "comment": md.Comment, "created_by": md.CreatedBy,
		"piece_size": d.PieceLength, "pieces_num": d.Pieces, "pieces_have": havePieces,
		"total_size": totalSize, "total_wasted": 0,
		"total_uploaded": d.Uploaded, "total_uploaded_session": d.Uploaded,
		"total_downloaded": d.Downloaded, "total_downloaded_session": d.Downloaded,
		"up_limit": limitOrNone(d.UploadLimit), "dl_limit": limitOrNone(d.DownloadLimit),
		"time_elapsed": elapsed, "seeding_time": seeding,
		"nb_connections": d.Peers, "nb_connections_limit": -1,
		"share_ratio": d.Ratio, "addition_date": unix(d.AddedAt), "completion_date": completion,
		"dl_speed": d.DownloadRate, "up_speed": d.UploadRate,
		"dl_speed_avg": avg(d.Downloaded), "up_speed_avg": avg(d.Uploaded),
		"eta": eta, "last_seen": -1, "reannounce": reannounce,
		"peers": d.Peers - d.Seeds, "peers_total": peersTotal, "seeds": d.Seeds, "seeds_total": seedsTotal,
		"is_private": x.Private, "isPrivate": x.Private, "has_metadata": haveMeta,
	})
}

// filePriority maps gobit's file priority names to qBittorrent's numbers.
func filePriority(p string) int {
	switch p {
	case "skip":
		return 0
	case "high":
		return 6
	}
	return 1 // normal, and low: qBittorrent has nothing below normal
}

// files answers torrents/files.
func (h *Handler) files(w http.ResponseWriter, _ *http.Request, f *form) {
	d, ok := h.detail(w, f)
	if !ok {
		return
	}
	var wanted map[int]bool
	if f.has("indexes") {
		wanted = map[int]bool{}
		for _, s := range f.list("indexes", "|") {
			if i, err := strconv.Atoi(s); err == nil {
				wanted[i] = true
			}
		}
	}
	out := make([]map[string]any, 0, len(d.Files))
	var off int64
	for _, fs := range d.Files {
		first, last := int64(0), int64(0)
		if d.PieceLength > 0 {
			first = off / d.PieceLength
			last = first
			if fs.Size > 0 {
				last = (off + fs.Size - 1) / d.PieceLength
			}
		}
		off += fs.Size
		if wanted != nil && !wanted[fs.Index] {
			continue
		}
		out = append(out, map[string]any{
			"index": fs.Index, "name": fs.Path, "size": fs.Size, "progress": fs.Progress,
			"priority": filePriority(fs.Priority), "is_seed": fs.Progress >= 1,
			"piece_range": []int64{first, last}, "availability": -1,
		})
	}
	writeJSON(w, out)
}

// trackerStatus maps gobit's tracker states to qBittorrent's numbers.
func trackerStatus(s string) int {
	switch s {
	case "working":
		return 2
	case "updating":
		return 3
	case "error":
		return 4
	}
	return 1 // not contacted
}

// trackers answers torrents/trackers: the DHT, PeX and LSD pseudo-trackers
// first, as qBittorrent lists them, then the torrent's trackers.
func (h *Handler) trackers(w http.ResponseWriter, _ *http.Request, f *form) {
	d, ok := h.detail(w, f)
	if !ok {
		return
	}
	private := h.sess.Extras()[d.InfoHash].Private
	_, dhtOn := h.sess.DHTStats()
	lsdOn := h.sess.LSDAddr().IsValid()
	pseudo := func(url string, on bool) map[string]any {
		st := 0 // disabled
		if on && !private {
			st = 2
		}
		return map[string]any{"url": url, "status": st, "tier": -1, "num_peers": 0, "num_seeds": 0,
			"num_leeches": 0, "num_downloaded": 0, "msg": ""}
	}
	out := []map[string]any{pseudo("** [DHT] **", dhtOn), pseudo("** [PeX] **", true), pseudo("** [LSD] **", lsdOn)}
	for _, tr := range d.Trackers {
		peers, seeds, leeches := int64(-1), int64(-1), int64(-1)
		if tr.Status == "working" {
			peers, seeds, leeches = int64(tr.Peers), int64(tr.Seeders), int64(tr.Leechers)
		}
		out = append(out, map[string]any{"url": tr.URL, "status": trackerStatus(tr.Status), "tier": tr.Tier,
			"num_peers": peers, "num_seeds": seeds, "num_leeches": leeches, "num_downloaded": -1, "msg": tr.Error})
	}
	writeJSON(w, out)
}

// pieceStates answers torrents/pieceStates: 0 not downloaded, 2 downloaded
// (gobit does not report pieces in flight, 1). Before the metadata: [].
func (h *Handler) pieceStates(w http.ResponseWriter, _ *http.Request, f *form) {
	d, ok := h.detail(w, f)
	if !ok {
		return
	}
	pm, err := h.sess.Pieces(d.InfoHash)
	out := []int{}
	if err == nil {
		out = make([]int, pm.Pieces)
		for i := range out {
			if pm.Have[i/8]&(0x80>>(i%8)) != 0 {
				out[i] = 2
			}
		}
	}
	writeJSON(w, out)
}

// pieceHashes answers torrents/pieceHashes (hex SHA-1s; [] before the
// metadata).
func (h *Handler) pieceHashes(w http.ResponseWriter, _ *http.Request, f *form) {
	d, ok := h.detail(w, f)
	if !ok {
		return
	}
	md, err := h.sess.Meta(d.InfoHash)
	out := make([]string, 0, len(md.PieceHashes))
	if err == nil {
		for _, ph := range md.PieceHashes {
			out = append(out, hex.EncodeToString(ph[:]))
		}
	}
	writeJSON(w, out)
}

// peerFlags spells a peer's state in qBittorrent's letters, in its order
// and separated by spaces, and describes each on a line of its own ("E =
// Encrypted traffic"): D/d we download / are interested but choked, U/u we
// upload / it is interested but choked, S snubbed, I incoming, H from the
// DHT, X from PEX, L from local discovery, E RC4-encrypted traffic, e an
// encrypted handshake with plain traffic, P uTP.
func peerFlags(p session.PeerStatus) (flags, desc string) {
	var fs, ds []string
	add := func(f, d string) {
		fs = append(fs, f)
		ds = append(ds, f+" = "+d)
	}
	has := func(f rune) bool { return strings.ContainsRune(p.Flags, f) }
	switch {
	case has('D'):
		add("D", "Interested (local) and unchoked (peer)")
	case has('d'):
		add("d", "Interested (local) and choked (peer)")
	}
	switch {
	case has('U'):
		add("U", "Interested (peer) and unchoked (local)")
	case has('u'):
		add("u", "Interested (peer) and choked (local)")
	}
	if has('S') {
		add("S", "Peer snubbed")
	}
	if !p.Outgoing {
		add("I", "Incoming connection")
	}
	switch p.Source {
	case "dht":
		add("H", "Peer from DHT")
	case "pex":
		add("X", "Peer from PEX")
	case "lsd":
		add("L", "Peer from LSD")
	}
	switch p.Encryption {
	case "rc4":
		add("E", "Encrypted traffic")
	case "plaintext":
		add("e", "Encrypted handshake")
	}
	if p.Transport == "utp" {
		add("P", "μTP")
	}
	return strings.Join(fs, " "), strings.Join(ds, "\n")
}

// torrentPeers answers sync/torrentPeers, always as a full update.
func (h *Handler) torrentPeers(w http.ResponseWriter, _ *http.Request, f *form) {
	d, ok := h.detail(w, f)
	if !ok {
		return
	}
	peers := make(map[string]any, len(d.PeerList))
	for _, p := range d.PeerList {
		host, port := p.Addr, 0
		if i := strings.LastIndexByte(p.Addr, ':'); i >= 0 {
			host = strings.Trim(p.Addr[:i], "[]")
			port, _ = strconv.Atoi(p.Addr[i+1:])
		}
		conn := "BT"
		if p.Transport == "utp" {
			conn = "μTP"
		}
		flags, desc := peerFlags(p)
		peers[p.Addr] = map[string]any{
			"ip": host, "port": port, "client": p.Client, "connection": conn, "flags": flags,
			"progress": p.Progress, "dl_speed": p.DownloadRate, "up_speed": p.UploadRate,
			"downloaded": p.Downloaded, "uploaded": p.Uploaded, "country": "", "country_code": "",
			"files": "", "relevance": p.Progress, "peer_id_client": p.Client, "flags_desc": desc,
		}
	}
	rid, _ := strconv.Atoi(f.get("rid"))
	writeJSON(w, map[string]any{"full_update": true, "rid": rid + 1, "peers": peers, "show_flags": false})
}
