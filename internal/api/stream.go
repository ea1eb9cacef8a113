package api

import (
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// stream serves GET /api/v1/torrents/{infohash}/files/{index}/stream: the
// file's bytes while it downloads, with HTTP ranges (single, multiple and
// open-ended, If-Range against the ETag), the Content-Type of its
// extension, and reads that wait for their pieces.
func (h *handler) stream(w http.ResponseWriter, r *http.Request) {
	ih, index, err := fileOfRequest(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fs, err := h.b.OpenStream(r.Context(), ih, index)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer fs.Close()
	name := path.Base(fs.Path)
	ct := contentType(name)
	// Set, so that ServeContent never sniffs (which would wait for the
	// first piece before answering a HEAD).
	w.Header().Set("Content-Type", ct)
	// A torrent's file never changes: a strong validator for If-Range.
	w.Header().Set("ETag", `"`+ih+"-"+strconv.Itoa(index)+`"`)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": name}))
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, fs)
}

// mediaTypes are the types of common media files, which players need
// right; system MIME tables (/etc/mime.types) lack some and differ on
// others (.webm as audio/webm).
var mediaTypes = map[string]string{
	".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".mkv": "video/x-matroska",
	".mov": "video/quicktime", ".avi": "video/x-msvideo", ".ogv": "video/ogg", ".ts": "video/mp2t",
	".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg",
	".flac": "audio/flac", ".wav": "audio/wav", ".vtt": "text/vtt", ".srt": "application/x-subrip",
}

// contentType returns the media type of a file name by its extension:
// mediaTypes first, then the system's MIME table, else
// application/octet-stream.
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if ct, ok := mediaTypes[ext]; ok {
		return ct
	}
	if ct := mime.TypeByExtension(ext); ct != "" {
		return ct
	}
	return "application/octet-stream"
}
