package api

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// FilesBody is the body of PATCH /api/v1/torrents/{hash}/files.
type FilesBody struct {
	// Priorities maps file indexes to priorities: either an object
	// {"2": "skip", "1": "high"} (only the files named change) or an array
	// ["normal", "skip", …] (file i gets element i; null leaves it alone).
	Priorities json.RawMessage `json:"priorities"`
}

// maxPriorityEntries bounds the files one request may change.
const maxPriorityEntries = 1 << 20

// parsePriorities reads FilesBody.Priorities in either form.
func parsePriorities(raw json.RawMessage) (map[int]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, badRequest("priorities is missing: give an object of file index to priority, or an array")
	}
	out := map[int]string{}
	switch raw[0] {
	case '{':
		var m map[string]string
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, badRequest("priorities: %v", err)
		}
		if len(m) > maxPriorityEntries {
			return nil, badRequest("priorities names more than %d files", maxPriorityEntries)
		}
		for k, v := range m {
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 {
				return nil, badRequest("priorities: %q is not a file index", truncate(k, 20))
			}
			out[i] = v
		}
	case '[':
		var l []*string
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, badRequest("priorities: %v", err)
		}
		if len(l) > maxPriorityEntries {
			return nil, badRequest("priorities names more than %d files", maxPriorityEntries)
		}
		for i, v := range l {
			if v != nil {
				out[i] = *v
			}
		}
	default:
		return nil, badRequest("priorities must be an object or an array")
	}
	if len(out) == 0 {
		return nil, badRequest("priorities names no file")
	}
	return out, nil
}

// setFiles serves PATCH /api/v1/torrents/{infohash}/files: changes file
// priorities and answers with the torrent's detail.
func (h *handler) setFiles(w http.ResponseWriter, r *http.Request) {
	ih, err := ParseInfoHash(r.PathValue("infohash"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var body FilesBody
	if err := decodeJSONBody(r, &body); err != nil {
		h.fail(w, r, err)
		return
	}
	prio, err := parsePriorities(body.Priorities)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d, err := h.b.SetFilePriorities(ih, prio)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeDetail(w, d)
}

// pieces serves GET /api/v1/torrents/{infohash}/pieces: the have-bitfield
// as JSON, or as raw bytes (application/octet-stream, the piece count in
// X-Gobit-Pieces) when the client accepts only that.
func (h *handler) pieces(w http.ResponseWriter, r *http.Request) {
	ih, err := ParseInfoHash(r.PathValue("infohash"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pm, err := h.b.Pieces(ih)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if r.Header.Get("Accept") == "application/octet-stream" {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Gobit-Pieces", strconv.Itoa(pm.Pieces))
		w.Header().Set("Content-Length", strconv.Itoa(len(pm.Have)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(pm.Have)
		return
	}
	if pm.Have == nil {
		pm.Have = []byte{}
	}
	writeJSON(w, http.StatusOK, pm)
}
