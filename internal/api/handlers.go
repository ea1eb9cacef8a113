package api

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gobit/gobit/internal/session"
)

// Content types the add routes accept.
const (
	contentJSON      = "application/json"
	contentTorrent   = "application/x-bittorrent"
	contentText      = "text/plain"
	contentForm      = "application/x-www-form-urlencoded"
	contentMultipart = "multipart/form-data"
)

// maxURIBytes bounds a URI read from a multipart field.
const maxURIBytes = 64 << 10

// maxTorrentsPerUpload bounds the .torrent files of one multipart upload
// (the body cap bounds their total size).
const maxTorrentsPerUpload = 1000

func isTorrentField(name string) bool { return name == "torrent" || name == "torrents" }

// AddBody is the JSON body of POST /api/v1/torrents: exactly one of URI and
// Torrent (base64 in JSON) must be set.
type AddBody struct {
	// URI is a magnet URI or an http(s) URL of a .torrent file.
	URI string `json:"uri,omitempty"`
	// Torrent is the content of a .torrent file.
	Torrent []byte `json:"torrent,omitempty"`
	// DownloadDir overrides the daemon's download directory when set.
	DownloadDir string `json:"download_dir,omitempty"`
	// Paused adds the torrent stopped; it starts with a resume.
	Paused bool `json:"paused,omitempty"`
	// Category files the torrent under an existing category (saved in
	// its save path unless DownloadDir is set); Tags are its tags.
	Category string   `json:"category,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	// Files sets file priorities by file index: {"0": "skip", "3": "high"}.
	Files map[string]string `json:"files,omitempty"`
	// Only downloads just the listed files (by index); the others are
	// skipped.
	Only []int `json:"only,omitempty"`
	// Sequential and FirstLastPieceFirst set the piece order.
	Sequential          bool `json:"sequential,omitempty"`
	FirstLastPieceFirst bool `json:"first_last_piece_first,omitempty"`
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	// Error is a human-readable message saying what failed.
	Error string `json:"error"`
}

// httpError is a request error with the status code it maps to.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func unsupportedType(ct string, accepted ...string) error {
	if ct == "" {
		ct = "none"
	}
	return &httpError{
		status: http.StatusUnsupportedMediaType,
		msg:    fmt.Sprintf("%v %q: use %s", ErrUnsupportedType, ct, strings.Join(accepted, ", ")),
	}
}

// statusFor maps an error from request parsing or the backend to an HTTP
// status code.
func statusFor(err error) int {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.status
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrBadInfoHash), errors.Is(err, session.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, session.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, session.ErrExists), errors.Is(err, session.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, session.ErrClosed):
		return http.StatusServiceUnavailable
	case errors.Is(err, session.ErrStorageFull):
		return http.StatusInsufficientStorage
	default:
		return http.StatusInternalServerError
	}
}

// fail writes err as a JSON error with the status it maps to.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := statusFor(err)
	msg := err.Error()
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		msg = fmt.Sprintf("%v: limit is %d bytes", ErrTooLarge, mbe.Limit)
	}
	if code >= 500 {
		h.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, code, msg)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encoding response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(append(data, '\n'))
}

func writeError(w http.ResponseWriter, code int, msg string) {
	data, _ := json.Marshal(ErrorBody{Error: msg})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(append(data, '\n'))
}

// mediaType returns the lower-case media type of r without parameters, or
// "" when the header is absent.
func mediaType(r *http.Request) (string, map[string]string, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "", nil, nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", nil, badRequest("malformed Content-Type %q: %v", ct, err)
	}
	return mt, params, nil
}

// ParseInfoHash validates a hex info hash (40 characters, either case) and
// returns it in lower case.
func ParseInfoHash(s string) (string, error) {
	if len(s) != 40 {
		return "", fmt.Errorf("%w: got %q", ErrBadInfoHash, truncate(s, 80))
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", fmt.Errorf("%w: got %q", ErrBadInfoHash, truncate(s, 80))
	}
	return strings.ToLower(s), nil
}

// fileOfRequest reads the {infohash} and {index} of a route about one file
// of a torrent. Its error is a bad request, for h.fail.
func fileOfRequest(r *http.Request) (infoHash string, index int, err error) {
	infoHash, err = ParseInfoHash(r.PathValue("infohash"))
	if err != nil {
		return "", 0, err
	}
	index, err = strconv.Atoi(r.PathValue("index"))
	if err != nil || index < 0 {
		return "", 0, badRequest("file index %q is not a number from 0", truncate(r.PathValue("index"), 20))
	}
	return infoHash, index, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// addMagnetCompat serves POST /add/magnet, the route of the original tool:
// the body is a magnet URI as plain text, surrounding whitespace ignored.
// curl's default form Content-Type and a missing one are accepted too,
// since the body is read verbatim either way.
func (h *handler) addMagnetCompat(w http.ResponseWriter, r *http.Request) {
	mt, _, err := mediaType(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	switch mt {
	case contentText, contentForm, "":
	default:
		h.fail(w, r, unsupportedType(mt, contentText))
		return
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		h.fail(w, r, bodyError(err))
		return
	}
	uri := strings.TrimSpace(string(data))
	if uri == "" {
		h.fail(w, r, badRequest("empty body: send the magnet URI as the request body"))
		return
	}
	st, err := h.b.Add(r.Context(), session.AddRequest{URI: uri})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	name := st.Name
	if name == "" {
		name = "(name not known yet)"
	}
	_, _ = fmt.Fprintf(w, "added %s %s\n", st.InfoHash, name)
}

// add serves POST /api/v1/torrents.
func (h *handler) add(w http.ResponseWriter, r *http.Request) {
	var more [][]byte
	req, err := h.parseAdd(r, &more)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := checkDir("download_dir", req.DownloadDir); err != nil {
		h.fail(w, r, err)
		return
	}
	if len(more) > 0 {
		h.addSeveral(w, r, req, more)
		return
	}
	st, err := h.b.Add(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/torrents/"+st.InfoHash)
	writeJSON(w, http.StatusCreated, st)
}

// addSeveral adds the torrent of req and each of more, with req's other
// fields, for a multipart upload of several files, as one batch: their
// records are saved in one store commit (session.AddMany). Every file is
// tried. The answer is 201 with an array of the statuses, in the order of
// the files, when all were added, else the first failed file's status
// with a message naming each file that failed (the others stay added).
func (h *handler) addSeveral(w http.ResponseWriter, r *http.Request, req session.AddRequest, more [][]byte) {
	reqs := make([]session.AddRequest, 0, 1+len(more))
	for _, data := range append([][]byte{req.Torrent}, more...) {
		one := req
		one.Torrent = data
		reqs = append(reqs, one)
	}
	sts, errs := h.b.AddMany(r.Context(), reqs)
	added := make([]session.Status, 0, len(reqs))
	var failed []string
	var first error
	for i, err := range errs {
		if err != nil {
			if first == nil {
				first = err
			}
			if len(failed) < 20 { // a message of bounded size
				failed = append(failed, fmt.Sprintf("file %d: %v", i+1, err))
			}
			continue
		}
		added = append(added, sts[i])
	}
	if first != nil {
		msg := strings.Join(failed, "; ")
		if n := len(reqs) - len(added); n > len(failed) {
			msg += fmt.Sprintf("; %d more failed", n-len(failed))
		}
		if len(added) > 0 {
			msg += fmt.Sprintf(" (the other %d of %d files were added)", len(added), len(reqs))
		}
		h.fail(w, r, &httpError{status: statusFor(first), msg: msg})
		return
	}
	writeJSON(w, http.StatusCreated, added)
}

// parseBoolParam parses an optional boolean query parameter or form field.
func parseBoolParam(name, v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("%s must be true or false, got %q", name, truncate(v, 40))
	}
	return b, nil
}

// parseAdd builds an AddRequest from any of the accepted body forms. For
// the non-JSON forms a download_dir query parameter (or form field) sets
// the download directory, and a paused one (true or false) adds the
// torrent stopped. The .torrent files of a multipart upload after the
// first are appended to more.
func (h *handler) parseAdd(r *http.Request, more *[][]byte) (session.AddRequest, error) {
	mt, _, err := mediaType(r)
	if err != nil {
		return session.AddRequest{}, err
	}
	req := session.AddRequest{DownloadDir: r.URL.Query().Get("download_dir"), Category: r.URL.Query().Get("category")}
	if f, ok := listFilter(r); ok {
		req.Tags = f.Tags
	}
	if req.Paused, err = parseBoolParam("paused", r.URL.Query().Get("paused")); err != nil {
		return req, err
	}
	switch mt {
	case contentJSON:
		var body AddBody
		if err := decodeJSONBody(r, &body); err != nil {
			return req, err
		}
		req.URI = strings.TrimSpace(body.URI)
		req.Torrent = body.Torrent
		if body.DownloadDir != "" {
			req.DownloadDir = body.DownloadDir
		}
		req.Paused = req.Paused || body.Paused
		if body.Category != "" {
			req.Category = body.Category
		}
		req.Tags = append(req.Tags, body.Tags...)
		if len(body.Files) > 0 {
			req.Files = make(map[int]string, len(body.Files))
			for k, v := range body.Files {
				i, err := strconv.Atoi(k)
				if err != nil || i < 0 {
					return req, badRequest("files: %q is not a file index", truncate(k, 20))
				}
				req.Files[i] = v
			}
		}
		req.Only = body.Only
		req.Sequential, req.FirstLastPieceFirst = body.Sequential, body.FirstLastPieceFirst
	case contentTorrent:
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return req, bodyError(err)
		}
		req.Torrent = data
		if len(data) == 0 {
			return req, badRequest("empty body: send the .torrent file's bytes")
		}
	case contentText:
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return req, bodyError(err)
		}
		req.URI = strings.TrimSpace(string(data))
	case contentMultipart:
		if err := parseMultipartAdd(r, &req, more); err != nil {
			return req, err
		}
	default:
		return req, unsupportedType(mt, contentJSON, contentTorrent, contentMultipart, contentText)
	}
	switch {
	case req.URI == "" && len(req.Torrent) == 0:
		return req, badRequest("nothing to add: give a uri (magnet or http(s) URL) or a .torrent file")
	case req.URI != "" && len(req.Torrent) != 0:
		return req, badRequest("give either a uri or a .torrent file, not both")
	}
	return req, nil
}

// parseMultipartAdd reads a multipart form with file fields "torrent" or
// "torrents" (the name qBittorrent clients use; either may repeat: the first
// file goes to req, the others to more) or a field "uri", and optional
// fields "download_dir" and "paused". Parts are streamed; the body cap set
// by the middleware bounds the total.
func parseMultipartAdd(r *http.Request, req *session.AddRequest, more *[][]byte) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return badRequest("malformed multipart body: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return err
			}
			return badRequest("malformed multipart body: %v", err)
		}
		var limit int64 = maxURIBytes
		if isTorrentField(part.FormName()) {
			limit = 1 << 62 // bounded by the body cap
		}
		data, err := io.ReadAll(io.LimitReader(part, limit+1))
		_ = part.Close()
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return err
			}
			return badRequest("reading multipart field %q: %v", part.FormName(), err)
		}
		if int64(len(data)) > limit {
			return badRequest("multipart field %q is longer than %d bytes", part.FormName(), limit)
		}
		switch part.FormName() {
		case "torrent", "torrents":
			if len(req.Torrent) == 0 {
				req.Torrent = data
			} else if len(data) > 0 {
				if len(*more)+2 > maxTorrentsPerUpload {
					return badRequest("more than %d .torrent files in one upload", maxTorrentsPerUpload)
				}
				*more = append(*more, data)
			}
		case "paused":
			b, err := parseBoolParam("paused", strings.TrimSpace(string(data)))
			if err != nil {
				return err
			}
			req.Paused = req.Paused || b
		case "uri":
			req.URI = strings.TrimSpace(string(data))
		case "download_dir":
			req.DownloadDir = string(data)
		case "category":
			req.Category = string(data)
		case "tags":
			for t := range strings.SplitSeq(string(data), ",") {
				if t = strings.TrimSpace(t); t != "" {
					req.Tags = append(req.Tags, t)
				}
			}
		}
	}
}

// list serves GET /api/v1/torrents; the answer is never null. ?fields=
// picks the fields, ?state= filters by state, ?offset= and ?limit= take a
// page, and X-Total-Count says how many torrents matched (listjson.go).
func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	lq, err := parseListQuery(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	all := h.b.ListShared()
	h.rows.prune(all)
	l, total := lq.page(filterList(r, all))
	h.writeStatuses(w, l, lq.fields, total)
}

// get serves GET /api/v1/torrents/{infohash}.
func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	ih, err := ParseInfoHash(r.PathValue("infohash"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d, err := h.b.Get(ih)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeDetail(w, d)
}

// writeDetail answers 200 with d, its lists as [] rather than null.
func writeDetail(w http.ResponseWriter, d session.Detail) {
	if d.Files == nil {
		d.Files = []session.FileStatus{}
	}
	if d.Trackers == nil {
		d.Trackers = []session.TrackerStatus{}
	}
	if d.PeerList == nil {
		d.PeerList = []session.PeerStatus{}
	}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	writeJSON(w, http.StatusOK, d)
}

// pause serves POST /api/v1/torrents/{infohash}/pause.
func (h *handler) pause(w http.ResponseWriter, r *http.Request) {
	h.simple(w, r, h.b.Pause)
}

// resume serves POST /api/v1/torrents/{infohash}/resume.
func (h *handler) resume(w http.ResponseWriter, r *http.Request) {
	h.simple(w, r, h.b.Resume)
}

// remove serves DELETE /api/v1/torrents/{infohash}[?delete_data=true].
func (h *handler) remove(w http.ResponseWriter, r *http.Request) {
	deleteData := false
	if v := r.URL.Query().Get("delete_data"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			h.fail(w, r, badRequest("delete_data must be true or false, got %q", truncate(v, 40)))
			return
		}
		deleteData = b
	}
	h.simple(w, r, func(ih string) error { return h.b.Remove(ih, deleteData) })
}

// simple validates the info hash, calls op and answers 204.
func (h *handler) simple(w http.ResponseWriter, r *http.Request, op func(string) error) {
	ih, err := ParseInfoHash(r.PathValue("infohash"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := op(ih); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
