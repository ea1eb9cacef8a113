package transmission

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gobit/gobit/internal/api/creds"
	"github.com/gobit/gobit/internal/session"
)

// Backend is what the RPC needs of a session; *session.Session is one.
type Backend interface {
	Add(ctx context.Context, req session.AddRequest) (session.Status, error)
	List() []session.Status
	// ListShared is List without copies: the Status values are shared,
	// read only.
	ListShared() []*session.Status
	Get(infoHash string) (session.Detail, error)
	Pieces(infoHash string) (session.PieceMap, error)
	Private(infoHash string) (bool, error)
	Pause(infoHash string) error
	Resume(infoHash string) error
	ForceStart(infoHash string) error
	Recheck(infoHash string) error
	Reannounce(infoHash string) error
	Remove(infoHash string, deleteData bool) error
	Move(infoHash, dir string) error
	SetLocation(infoHash, dir string) error
	UpdateTorrent(infoHash string, u session.TorrentUpdate) (session.Status, error)
	SetFilePriorities(infoHash string, prio map[int]string) (session.Detail, error)
	RenamePath(infoHash, from, to string) (session.Detail, error)
	MoveInQueue(infoHash string, move session.QueueMove) error
	Settings() session.Settings
	UpdateSettings(u session.SettingsUpdate) (session.Settings, error)
	Port() int
	DownloadDir() string
	PeerLimits() (global, perTorrent int)
	Discovery() (dht, lsd bool)
}

// Options configure the handler.
type Options struct {
	// Credentials are checked with HTTP Basic authentication when they
	// require anything.
	Credentials creds.Credentials
	// Version is gobit's version, reported after the Transmission release
	// whose protocol is spoken.
	Version string
	// Logger receives a debug record per call; nil discards.
	Logger *slog.Logger
	// MaxBodyBytes caps a request body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// DefaultMaxBodyBytes caps a request body (a torrent-add carries a whole
// .torrent file in base64).
const DefaultMaxBodyBytes = 16 << 20

// SessionIDHeader is the header of the CSRF handshake.
const SessionIDHeader = "X-Transmission-Session-Id"

// Handler serves the Transmission RPC.
type Handler struct {
	b         Backend
	opts      Options
	log       *slog.Logger
	sessionID string
	started   time.Time
	ids       *registry
	// rawMark starts the placeholders write puts where encoded lists go;
	// its random part keeps a client from forging one.
	rawMark string
	// trJSON caches trackers' encoded scrape URLs and site names
	// (fields.go); guarded by trMu.
	trMu   sync.Mutex
	trJSON map[string][]byte

	// mu guards the values a client set while their switch was off:
	// Transmission keeps a speed limit (kB/s), a ratio and a queue size
	// apart from whether it is enabled; gobit keeps one number.
	mu                   sync.Mutex
	downKB, upKB         int64
	ratio                float64
	downQueue, seedQueue int64
	addedSinceStart      int
}

// New returns a handler serving the Transmission RPC for b.
func New(b Backend, opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	var buf, nonce [24]byte
	_, _ = rand.Read(buf[:])
	_, _ = rand.Read(nonce[:])
	return &Handler{
		b: b, opts: opts, log: opts.Logger,
		sessionID: base64.RawURLEncoding.EncodeToString(buf[:]),
		rawMark:   `"\u0000` + base64.RawURLEncoding.EncodeToString(nonce[:]),
		started:   time.Now(),
		ids:       newRegistry(),
		downKB:    100, upKB: 100, ratio: 2, downQueue: 5, seedQueue: 10,
	}
}

// SessionID returns the X-Transmission-Session-Id clients must send.
func (h *Handler) SessionID() string { return h.sessionID }

// ServeHTTP authenticates, checks the session id and answers the call.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c := h.opts.Credentials; c.Required() {
		user, pass, ok := r.BasicAuth()
		if !ok || !c.Check(user, pass) {
			w.Header().Set("WWW-Authenticate", `Basic realm="Transmission"`)
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, "<h1>401: Unauthorized</h1>Unauthorized User")
			return
		}
	}
	if r.Header.Get(SessionIDHeader) != h.sessionID {
		w.Header().Set(SessionIDHeader, h.sessionID)
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusConflict)
		_, _ = io.WriteString(w, "<h1>409: Conflict</h1><p>Your request had an invalid session-id header.</p>"+
			"<p>To fix this, follow these steps:<ol><li> When reading a response, get its X-Transmission-Session-Id header and remember it"+
			"<li> Add the updated header to your outgoing requests<li> When you get this 409 error message, resend your request with the updated header</ol></p>"+
			"<p><code>"+SessionIDHeader+": "+h.sessionID+"</code></p>")
		return
	}
	w.Header().Set(SessionIDHeader, h.sessionID)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "the Transmission RPC takes POST requests", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	reqs, batch, err := decodeBody(body)
	if err != nil {
		// Not JSON: which form was meant is unknown. A JSON-RPC parse
		// error is the answer both kinds of clients can read.
		h.write(w, http.StatusBadRequest, jsonrpcResponse{JSONRPC: "2.0", ID: json.RawMessage("null"),
			Error: &jsonrpcError{Code: codeParseError, Message: codeMessages[codeParseError], Data: map[string]any{"error_string": err.Error()}}})
		return
	}
	var answers []any
	for _, req := range reqs {
		if a := h.call(r.Context(), req); a != nil {
			answers = append(answers, a)
		}
	}
	switch {
	case len(answers) == 0:
		w.WriteHeader(http.StatusNoContent)
	case batch:
		h.write(w, http.StatusOK, answers)
	default:
		h.write(w, http.StatusOK, answers[0])
	}
}

func (h *Handler) write(w http.ResponseWriter, status int, v any) {
	// The torrent lists in v (rawJSON, valid JSON already) are left out of
	// the marshalling, which would check and copy each (a tenth of a
	// torrent-get of 10,000), and written where their placeholders are.
	var raws []rawJSON
	for _, a := range answerList(v) {
		var res any
		switch r := a.(type) {
		case classicResponse:
			res = r.Arguments
		case jsonrpcResponse:
			res = r.Result
		}
		m, _ := res.(map[string]any)
		var keys []string
		for k, x := range m {
			if _, ok := x.(rawJSON); ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys) // the order json.Marshal writes them in
		for _, k := range keys {
			raws = append(raws, m[k].(rawJSON))
			m[k] = rawJSON(h.rawMark + strconv.Itoa(len(raws)-1) + `"`)
		}
	}
	data, err := json.Marshal(v)
	// Each placeholder is found once, in order: json.Marshal writes the
	// answers, and their keys, in the order they were numbered.
	var parts [][]byte
	rest := data
	for i := 0; err == nil && i < len(raws); i++ {
		mark := h.rawMark + strconv.Itoa(i) + `"`
		j := bytes.Index(rest, []byte(mark))
		if j < 0 {
			err = fmt.Errorf("placeholder %d missing", i)
			break
		}
		parts = append(parts, rest[:j], raws[i])
		rest = rest[j+len(mark):]
	}
	if err != nil {
		h.log.Error("transmission rpc: encoding the answer", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	for _, p := range append(parts, rest) {
		if _, err := w.Write(p); err != nil {
			return
		}
	}
}

// answerList returns the answers v holds: a batch's, or v alone.
func answerList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// methods maps dash-case method names to their implementations.
var methods = map[string]func(h *Handler, ctx context.Context, r *request) (map[string]any, *rpcError){
	"torrent-get":          (*Handler).torrentGet,
	"torrent-add":          (*Handler).torrentAdd,
	"torrent-set":          (*Handler).torrentSet,
	"torrent-start":        (*Handler).torrentStart,
	"torrent-start-now":    (*Handler).torrentStartNow,
	"torrent-stop":         (*Handler).torrentStop,
	"torrent-verify":       (*Handler).torrentVerify,
	"torrent-reannounce":   (*Handler).torrentReannounce,
	"torrent-remove":       (*Handler).torrentRemove,
	"torrent-set-location": (*Handler).torrentSetLocation,
	"torrent-rename-path":  (*Handler).torrentRenamePath,
	"session-get":          (*Handler).sessionGet,
	"session-set":          (*Handler).sessionSet,
	"session-stats":        (*Handler).sessionStats,
	"session-close":        (*Handler).sessionClose,
	"free-space":           (*Handler).freeSpace,
	"port-test":            (*Handler).portTest,
	"blocklist-update":     (*Handler).blocklistUpdate,
	"queue-move-top":       queueMover(session.QueueTop),
	"queue-move-up":        queueMover(session.QueueUp),
	"queue-move-down":      queueMover(session.QueueDown),
	"queue-move-bottom":    queueMover(session.QueueBottom),
	"group-get":            (*Handler).groupGet,
	"group-set":            (*Handler).groupSet,
}

// call runs one request and returns its answer (nil for a notification).
func (h *Handler) call(ctx context.Context, r *request) any {
	if r.bad != nil {
		return answer(r, nil, r.bad)
	}
	fn := methods[r.method]
	if fn == nil {
		return answer(r, nil, errorf(codeMethodNotFound, "%s", methodNotFound))
	}
	res, err := fn(h, ctx, r)
	if err != nil {
		h.log.Debug("transmission rpc", "method", r.method, "err", err.Msg)
	} else {
		h.log.Debug("transmission rpc", "method", r.method)
	}
	return answer(r, res, err)
}
