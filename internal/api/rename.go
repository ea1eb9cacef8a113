package api

import (
	"net/http"

	"github.com/gobit/gobit/internal/session"
)

// Renamer is what the rename routes need from a backend besides Backend.
// *session.Session satisfies it; NewHandler serves those routes only for a
// backend that implements it (others answer 404).
type Renamer interface {
	// RenameFile moves one file, by file index, to a new path relative
	// to the save directory, and returns the torrent's detail.
	RenameFile(infoHash string, index int, newPath string) (session.Detail, error)
	// RenamePath moves a file or folder, named by its path relative to
	// the save directory, to a new path, and returns the torrent's
	// detail.
	RenamePath(infoHash, from, to string) (session.Detail, error)
}

var _ Renamer = (*session.Session)(nil)

// FileRenameBody is the JSON body of PATCH
// /api/v1/torrents/{infohash}/files/{index}.
type FileRenameBody struct {
	// Path is the file's new path, relative to the torrent's save
	// directory, '/' between components.
	Path string `json:"path"`
}

// RenameBody is the JSON body of POST /api/v1/torrents/{infohash}/rename.
type RenameBody struct {
	// From is the path of a file or a folder of the torrent, relative to
	// its save directory, as the detail's files show it.
	From string `json:"from"`
	// To is the new path for it.
	To string `json:"to"`
}

// registerRenamer adds the rename routes when the backend implements
// Renamer.
func (h *handler) registerRenamer(mux *http.ServeMux) {
	rn, ok := h.b.(Renamer)
	if !ok {
		return
	}
	mux.HandleFunc("PATCH /api/v1/torrents/{infohash}/files/{index}", func(w http.ResponseWriter, r *http.Request) {
		ih, index, err := fileOfRequest(r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		var body FileRenameBody
		if err := decodeJSONBody(r, &body); err != nil {
			h.fail(w, r, err)
			return
		}
		if body.Path == "" {
			h.fail(w, r, badRequest("missing \"path\": the file's new path, relative to the save directory"))
			return
		}
		d, err := rn.RenameFile(ih, index, body.Path)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		writeDetail(w, d)
	})
	mux.HandleFunc("POST /api/v1/torrents/{infohash}/rename", func(w http.ResponseWriter, r *http.Request) {
		ih, err := ParseInfoHash(r.PathValue("infohash"))
		if err != nil {
			h.fail(w, r, err)
			return
		}
		var body RenameBody
		if err := decodeJSONBody(r, &body); err != nil {
			h.fail(w, r, err)
			return
		}
		if body.From == "" || body.To == "" {
			h.fail(w, r, badRequest("give \"from\" (a file or folder of the torrent) and \"to\" (its new path)"))
			return
		}
		d, err := rn.RenamePath(ih, body.From, body.To)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		writeDetail(w, d)
	})
}
