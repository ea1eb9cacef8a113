package qbittorrent

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gobit/gobit/internal/api/creds"
	"github.com/gobit/gobit/internal/session"
)

// Prefix is the path the API is served under.
const Prefix = "/api/v2/"

// The version gobit reports: the qBittorrent release and Web API level
// whose routes, names and fields it implements.
const (
	AppVersion    = "v4.6.7"
	WebAPIVersion = "2.9.3"
)

// MaxBodyBytes bounds a request body (a multipart add with .torrent files
// included).
const MaxBodyBytes = 10 << 20

// Options configure the handler.
type Options struct {
	// Credentials are checked by auth/login; with none configured every
	// request is allowed.
	Credentials creds.Credentials
	// BypassLocal lets clients connecting from a loopback address in
	// without logging in (qBittorrent's bypass_local_auth).
	BypassLocal bool
	// DefaultSavePath is the session's download directory, reported by
	// app/defaultSavePath and used for new categories.
	DefaultSavePath string
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
	// Now returns the time (tests); time.Now when nil.
	Now func() time.Time
}

// Handler serves the qBittorrent Web API v2 for one session.
type Handler struct {
	sess   *session.Session
	opts   Options
	log    *slog.Logger
	now    func() time.Time
	auth   *authState
	routes map[string]route

	mu       sync.Mutex
	extraTag map[string]struct{}  // tags created by createTags that no torrent carries yet
	active   map[string]time.Time // when each torrent was last seen moving payload
	frozen   map[string][2]int64  // time_active and seeding_time when last seen running
	sync     *syncState
}

// route is one API method.
type route struct {
	fn   func(w http.ResponseWriter, r *http.Request, f *form)
	post bool // it changes something: POST only
}

// New returns the handler serving sess. Mount it at Prefix.
func New(sess *session.Session, opts Options) *Handler {
	h := &Handler{sess: sess, opts: opts, log: opts.Logger, now: opts.Now,
		extraTag: make(map[string]struct{}), active: make(map[string]time.Time), frozen: make(map[string][2]int64), sync: newSyncState()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.auth = newAuthState(h.now)
	h.routes = map[string]route{
		"auth/logout": {h.logout, true},

		"app/version":         {h.version, false},
		"app/webapiVersion":   {h.webapiVersion, false},
		"app/buildInfo":       {h.buildInfo, false},
		"app/preferences":     {h.preferences, false},
		"app/setPreferences":  {h.setPreferences, true},
		"app/defaultSavePath": {h.defaultSavePath, false},

		"torrents/info":        {h.info, false},
		"torrents/properties":  {h.properties, false},
		"torrents/files":       {h.files, false},
		"torrents/trackers":    {h.trackers, false},
		"torrents/pieceStates": {h.pieceStates, false},
		"torrents/pieceHashes": {h.pieceHashes, false},
		"torrents/categories":  {h.categories, false},
		"torrents/tags":        {h.tags, false},

		"torrents/uploadLimit":   {h.torrentLimit(false), false},
		"torrents/downloadLimit": {h.torrentLimit(true), false},

		"torrents/add":                      {h.add, true},
		"torrents/pause":                    {h.pause, true},
		"torrents/stop":                     {h.pause, true},
		"torrents/resume":                   {h.resume, true},
		"torrents/start":                    {h.resume, true},
		"torrents/delete":                   {h.delete, true},
		"torrents/recheck":                  {h.recheck, true},
		"torrents/reannounce":               {h.reannounce, true},
		"torrents/setLocation":              {h.setLocation, true},
		"torrents/rename":                   {h.rename, true},
		"torrents/renameFile":               {h.renameFile(false), true},
		"torrents/renameFolder":             {h.renameFile(true), true},
		"torrents/filePrio":                 {h.filePrio, true},
		"torrents/setCategory":              {h.setCategory, true},
		"torrents/addTags":                  {h.addTags, true},
		"torrents/removeTags":               {h.removeTags, true},
		"torrents/createTags":               {h.createTags, true},
		"torrents/deleteTags":               {h.deleteTags, true},
		"torrents/createCategory":           {h.createCategory, true},
		"torrents/editCategory":             {h.editCategory, true},
		"torrents/removeCategories":         {h.removeCategories, true},
		"torrents/setShareLimits":           {h.setShareLimits, true},
		"torrents/topPrio":                  {h.queueMove(session.QueueTop), true},
		"torrents/bottomPrio":               {h.queueMove(session.QueueBottom), true},
		"torrents/increasePrio":             {h.queueMove(session.QueueUp), true},
		"torrents/decreasePrio":             {h.queueMove(session.QueueDown), true},
		"torrents/setUploadLimit":           {h.setTorrentLimit(false), true},
		"torrents/setDownloadLimit":         {h.setTorrentLimit(true), true},
		"torrents/toggleSequentialDownload": {h.toggleSequential, true},
		"torrents/toggleFirstLastPiecePrio": {h.toggleFirstLast, true},
		"torrents/setForceStart":            {h.setForceStart, true},

		"transfer/info":             {h.transferInfo, false},
		"transfer/speedLimitsMode":  {h.speedLimitsMode, false},
		"transfer/uploadLimit":      {h.globalLimit(false), false},
		"transfer/downloadLimit":    {h.globalLimit(true), false},
		"transfer/setUploadLimit":   {h.setGlobalLimit(false), true},
		"transfer/setDownloadLimit": {h.setGlobalLimit(true), true},

		"sync/maindata":     {h.maindata, false},
		"sync/torrentPeers": {h.torrentPeers, false},
	}
	return h
}

// ServeHTTP answers one API request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		text(w, http.StatusNotFound, "Not Found")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodHead {
		text(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	if name == "auth/login" {
		h.login(w, r)
		return
	}
	rt, known := h.routes[name]
	if !h.authorized(r) {
		text(w, http.StatusForbidden, "Forbidden")
		return
	}
	if !known {
		text(w, http.StatusNotFound, "Not Found")
		return
	}
	if rt.post && r.Method != http.MethodPost {
		text(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	f, err := readForm(w, r)
	if err != nil {
		status := http.StatusBadRequest
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			status = http.StatusRequestEntityTooLarge
		}
		text(w, status, err.Error())
		return
	}
	rt.fn(w, r, f)
}

// text answers a plain-text body, as qBittorrent answers everything that
// is not JSON.
func text(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// answerOK answers 200 with an empty body, qBittorrent's answer to most actions.
func answerOK(w http.ResponseWriter) { text(w, http.StatusOK, "") }

// writeJSON answers v as JSON.
// It is written as an Encoder with SetEscapeHTML(false) writes it (magnet
// links keep their "&", as qBittorrent sends them), by appendJSON
// (encode.go).
func writeJSON(w http.ResponseWriter, v any) {
	bp := jsonBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledJSON {
			jsonBufs.Put(bp)
		}
	}()
	b, err := appendJSON((*bp)[:0], v)
	*bp = b
	if err != nil {
		text(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}

// jsonBufs holds writeJSON's buffers: a list of 10,000 torrents is 12 MB,
// which grown anew for each poll was most of what the lists allocated.
var jsonBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledJSON bounds the buffers jsonBufs keeps.
const maxPooledJSON = 64 << 20

// sessionError answers err from the session with qBittorrent's status for
// it.
func sessionError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, session.ErrNotFound):
		text(w, http.StatusNotFound, "Not Found")
	case errors.Is(err, session.ErrInvalid):
		text(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, session.ErrConflict), errors.Is(err, session.ErrExists):
		text(w, http.StatusConflict, err.Error())
	default:
		text(w, http.StatusInternalServerError, err.Error())
	}
}
