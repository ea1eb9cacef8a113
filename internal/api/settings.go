package api

import (
	"net/http"

	"github.com/gobit/gobit/internal/session"
)

// update serves PATCH /api/v1/torrents/{infohash}: changes the torrent's
// rate limits, seeding limits and upload slots at run time.
func (h *handler) update(w http.ResponseWriter, r *http.Request) {
	ih, err := ParseInfoHash(r.PathValue("infohash"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var u session.TorrentUpdate
	if err := decodeJSONBody(r, &u); err != nil {
		h.fail(w, r, err)
		return
	}
	st, err := h.b.UpdateTorrent(ih, u)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// settings serves GET /api/v1/session: the settings and the download
// directory's free space.
func (h *handler) settings(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, withNetwork(sessionInfo(h.b.Settings()), h.b))
}

// updateSettings serves PATCH /api/v1/session: changes the session-wide
// rate and seeding limits at run time.
func (h *handler) updateSettings(w http.ResponseWriter, r *http.Request) {
	var u session.SettingsUpdate
	if err := decodeJSONBody(r, &u); err != nil {
		h.fail(w, r, err)
		return
	}
	s, err := h.b.UpdateSettings(u)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, withNetwork(sessionInfo(s), h.b))
}

// recheck serves POST /api/v1/torrents/{infohash}/recheck.
func (h *handler) recheck(w http.ResponseWriter, r *http.Request) {
	h.simple(w, r, h.b.Recheck)
}

// MoveBody is the JSON body of POST /api/v1/torrents/{infohash}/move.
type MoveBody struct {
	Path string `json:"path"`
}

// move serves POST /api/v1/torrents/{infohash}/move with {"path": "…"}.
func (h *handler) move(w http.ResponseWriter, r *http.Request) {
	var body MoveBody
	if err := decodeJSONBody(r, &body); err != nil {
		h.fail(w, r, err)
		return
	}
	if body.Path == "" {
		h.fail(w, r, badRequest("missing \"path\": the new save directory"))
		return
	}
	if err := checkDir("path", body.Path); err != nil {
		h.fail(w, r, err)
		return
	}
	h.simple(w, r, func(ih string) error { return h.b.Move(ih, body.Path) })
}

// dhtStats serves GET /api/v1/dht: node count, buckets, our ID, query
// counters. 404 when the DHT is off.
func (h *handler) dhtStats(w http.ResponseWriter, r *http.Request) {
	st, ok := h.b.DHTStats()
	if !ok {
		writeError(w, http.StatusNotFound, "the DHT is off")
		return
	}
	writeJSON(w, http.StatusOK, st)
}
