// Package api is gobit's HTTP API: the handlers the daemon serves and the
// client the CLI uses to talk to it.
//
// The handler owns no torrent state. Every request is translated into one
// call on a Backend (in production a *session.Session), and the Backend's
// sentinel errors are mapped to HTTP status codes. The handler is safe for
// concurrent use as long as the Backend is.
//
// Routes (every field and answer is described in docs/api.md):
//
//	POST   /add/magnet                          body: a magnet URI (text/plain, form-encoded or no Content-Type;
//	                                            compatible with the original tool); 200 "added <hash> <name>"
//	POST   /api/v1/torrents                     201 session.Status; JSON {"uri": …, "torrent": <base64>,
//	                                            "download_dir": …, "paused": …}, raw .torrent bytes
//	                                            (application/x-bittorrent), a text/plain URI, or a multipart form
//	                                            (file fields "torrent" or "torrents", repeatable; "uri",
//	                                            "download_dir", "paused"); ?download_dir= and ?paused= with the
//	                                            non-JSON forms
//	GET    /api/v1/torrents                     JSON array of session.Status (never null), in queue order;
//	                                            ?category=X (empty: none) and ?tag=Y (repeatable) filter it;
//	                                            ?fields=a,b picks fields, ?state=s,t filters by state,
//	                                            ?offset=&limit= take a page; X-Total-Count (listjson.go)
//	GET    /api/v1/torrents/{infohash}          session.Detail (files, trackers, peer_list, magnet)
//	POST   /api/v1/torrents/{infohash}/files/{index}/stream-ticket
//	                                            StreamTicket: a URL that streams that one file without
//	                                            the token, for a <video src> (ticket.go)
//	PATCH  /api/v1/torrents/{infohash}          JSON session.TorrentUpdate; 200 session.Status
//	PATCH  /api/v1/torrents/{infohash}/files/{index}
//	                                            JSON {"path": "new/relative/path"}: renames (moves) that file
//	                                            inside the save directory; 200 session.Detail
//	POST   /api/v1/torrents/{infohash}/rename   JSON {"from": "file/or/folder", "to": "new/path"}: renames a
//	                                            file or a folder of the torrent's files; 200 session.Detail
//	POST   /api/v1/torrents/{infohash}/pause    204
//	POST   /api/v1/torrents/{infohash}/resume   204
//	POST   /api/v1/torrents/{infohash}/recheck  204 (also clears a disk error)
//	POST   /api/v1/torrents/{infohash}/move     JSON {"path": "/new/dir"}; 204
//	DELETE /api/v1/torrents/{infohash}          204; ?delete_data=true also deletes the files
//	GET    /api/v1/session                      SessionInfo (session.Settings and the download directory's
//	                                            free_space and total_space)
//	PATCH  /api/v1/session                      JSON session.SettingsUpdate; 200 SessionInfo
//	GET    /api/v1/free-space?path=/abs/dir     FreeSpaceBody: free and total bytes of the file system of dir
//	GET    /api/v1/dht                          dht.Stats; 404 when the DHT is off
//	GET    /api/v1/categories                   JSON array of session.Category
//	POST   /api/v1/categories                   JSON session.Category; 201 session.Category
//	PATCH  /api/v1/categories/{name}            JSON session.CategoryUpdate; 200 session.Category
//	DELETE /api/v1/categories/{name}            204; its torrents are left in no category
//	GET    /api/v1/tags                         JSON array of session.TagInfo
//	PATCH  /api/v1/tags/{name}                  JSON {"name": new}; 204
//	DELETE /api/v1/tags/{name}                  204
//	POST   /api/v1/torrents/{infohash}/queue    JSON {"move": "top"|"up"|"down"|"bottom"}; 204
//	POST   /api/v1/torrents/{infohash}/force-start  204: runs whatever the queue limits
//	GET    /api/v1/events                       text/event-stream of session.Event (events.go); 503 beyond
//	                                            session.DefaultMaxSubscribers streams
//	GET    /                                    the web UI (internal/webui): index.html
//	GET    /ui/{file}                           the web UI's scripts and styles
//
// The category, tag and queue routes exist when the Backend also
// implements Organizer, the rename routes when it implements Renamer (a
// *session.Session does both).
//
// The web UI's static files are served without the token (they hold no
// data; the page asks for the token and sends it with its API calls), but
// behind the same Host and Origin guard as everything else.
//
// Errors are always JSON, {"error": "message"}, never naming Go types: 400
// for bad input (session.ErrInvalid, a malformed info hash or body, a
// number out of its range, an unknown JSON field, a relative path), 401 for
// a missing or wrong token, 403 for a refused Host or a cross-site request,
// 404 for an unknown torrent or route, 405 for a wrong method, 409 for a
// torrent already added or a conflicting operation (session.ErrExists,
// session.ErrConflict), 413 for a body over Options.MaxBodyBytes, 415 for
// an unsupported Content-Type, 503 while the session closes, 507 when the
// change cannot be saved because the data disk is full
// (session.ErrStorageFull) and 500 otherwise (a change that cannot be saved
// for another reason is a 500 too). A change is acknowledged only once it
// is saved.
//
// Browsers: no web page may drive the daemon, whatever its address. Every
// request, on every route, must name in its Host header localhost (or a
// subdomain of it), a loopback address, the host of Options.Addr (the
// daemon's --addr; when that is a wildcard address, 0.0.0.0 or ::, any IP
// address literal) or an entry of Options.AllowedHosts (--api-allowed-hosts;
// "*" turns the check off, for reverse proxies); anything else is a 403 that
// names the flag. This defeats DNS rebinding: a page of rebind.example
// whose name now resolves to 127.0.0.1 still sends "Host: rebind.example".
// Requests that may change state (every method but GET, HEAD and OPTIONS)
// are refused with 403 when they carry an Origin header other than the
// API's own origin (the request's Host, same port; "null" never matches)
// or a Sec-Fetch-Site header other than "same-origin" or "none": browsers
// send those with cross-site form posts and "no-cors" fetches, which need
// no preflight. Clients that send neither (curl, scripts, Client) are
// unaffected. No CORS header is sent, so another origin's page cannot read
// a GET's answer either, except to an origin the user names in
// Options.AllowedOrigins (--api-allowed-origins: a browser extension that
// sends torrents to gobit, a web UI served elsewhere), whose requests pass
// the cross-site check and whose answers carry CORS headers. See Guard.
//
// Paths: a directory the API is given (download_dir of an add, the path of
// a move) must be absolute; a relative one is a 400 naming the field, never
// resolved against the daemon's working directory.
//
// Authentication: when Options.Token is set, every request must carry
// "Authorization: Bearer <token>" (the primary form) or
// "X-Gobit-Token: <token>". Tokens are compared in constant time. The one
// exception is a stream ticket (ticket.go): a GET or HEAD of
// /api/v1/torrents/{infohash}/files/{index}/stream?ticket=… whose ticket
// was issued for that very file and has not expired passes without the
// token, so that a <video src> can play it.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gobit/gobit/internal/dht"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/webui"
)

// Backend is what the handlers need from a session. *session.Session
// satisfies it; tests use a fake.
type Backend interface {
	// Add adds a torrent and starts it.
	Add(ctx context.Context, req session.AddRequest) (session.Status, error)
	// AddMany adds several torrents at once (one store commit for all),
	// with one status and one error per request, in order.
	AddMany(ctx context.Context, reqs []session.AddRequest) ([]session.Status, []error)
	// ListShared returns the status of every torrent, in a new slice the
	// caller may change; the Status values are shared and must not be
	// changed. The list caches each torrent's encoded row by its pointer
	// (listjson.go), so a backend returns the same pointer only while the
	// status stays the same (a *session.Session does).
	ListShared() []*session.Status
	// Get returns one torrent's details by lower-case hex info hash.
	Get(infoHash string) (session.Detail, error)
	// Pause stops a torrent's transfers.
	Pause(infoHash string) error
	// Resume restarts a paused torrent.
	Resume(infoHash string) error
	// Recheck hashes a torrent's data again (and clears a disk error).
	Recheck(infoHash string) error
	// Move moves a torrent's files to a new save directory.
	Move(infoHash, dir string) error
	// UpdateTorrent changes one torrent's limits.
	UpdateTorrent(infoHash string, u session.TorrentUpdate) (session.Status, error)
	// Settings returns the session-wide settings.
	Settings() session.Settings
	// DHTStats returns the DHT node's state; ok is false when it is off.
	DHTStats() (st dht.Stats, ok bool)
	// UpdateSettings changes session-wide settings.
	UpdateSettings(u session.SettingsUpdate) (session.Settings, error)
	// Remove removes a torrent, deleting its data when deleteData is set.
	Remove(infoHash string, deleteData bool) error
	// SetFilePriorities changes file priorities by file index ("skip",
	// "low", "normal", "high") and returns the torrent's detail.
	SetFilePriorities(infoHash string, prio map[int]string) (session.Detail, error)
	// Pieces returns the torrent's have-bitfield.
	Pieces(infoHash string) (session.PieceMap, error)
	// OpenStream opens a file of a torrent for reading while it
	// downloads.
	OpenStream(ctx context.Context, infoHash string, index int) (*session.FileStream, error)
	// Subscribe starts a subscription to the event stream (snapshot
	// first); session.ErrTooManySubscribers beyond the limit.
	Subscribe() (*session.Subscription, error)
}

var _ Backend = (*session.Session)(nil)

// DefaultMaxBodyBytes is the request body cap used when
// Options.MaxBodyBytes is zero. It bounds .torrent uploads.
const DefaultMaxBodyBytes = 10 << 20

// TokenHeader is the alternative header that carries the API token, for
// clients that cannot set Authorization.
const TokenHeader = "X-Gobit-Token"

// Sentinel errors of the API, returned by Client methods (wrapped in *Error)
// and used by the handler.
var (
	// ErrUnauthorized means the request had no token or a wrong one.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrBadInfoHash means an info hash was not 40 hexadecimal characters.
	ErrBadInfoHash = errors.New("info hash must be 40 hexadecimal characters")
	// ErrTooLarge means a request body exceeded the handler's cap.
	ErrTooLarge = errors.New("request body too large")
	// ErrUnsupportedType means a request had a Content-Type the route does
	// not accept.
	ErrUnsupportedType = errors.New("unsupported content type")
)

// Options configure NewHandler. The zero value is usable: no token, logs
// discarded, DefaultMaxBodyBytes.
type Options struct {
	// Token, when non-empty, is required on every request.
	Token string
	// Logger receives one debug record per request; nil discards.
	Logger *slog.Logger
	// MaxBodyBytes caps every request body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Addr is the address the API listens on (the daemon's --addr,
	// host:port). Its host is allowed in the Host header; a wildcard host
	// (empty, 0.0.0.0 or ::) allows every IP address literal instead.
	Addr string
	// AllowedHosts are further host names (or IP addresses, or "*.domain"
	// for a domain's subdomains) allowed in the Host header, from
	// --api-allowed-hosts; an entry "*" turns the Host check off.
	AllowedHosts []string
	// AllowedOrigins are origins ("scheme://host[:port]", such as a
	// browser extension's "chrome-extension://<id>" or a web UI served
	// elsewhere) whose requests may change state, from
	// --api-allowed-origins. Their requests get CORS headers, so their
	// pages may read the answers. An entry "*" is refused by
	// ValidateAllowedOrigins; "null" never matches.
	AllowedOrigins []string
	// Mounts are further handlers served beside the API (the Transmission
	// and qBittorrent APIs, /metrics), behind the same Host/Origin guard,
	// body cap, panic recovery and request log.
	Mounts []Mount
}

// Mount is a handler served by NewHandler beside the API's own routes.
type Mount struct {
	// Pattern is a net/http ServeMux pattern, such as "/transmission/rpc"
	// or "/api/v2/".
	Pattern string
	// Handler serves the requests that match Pattern.
	Handler http.Handler
	// OwnAuth means Handler authenticates requests itself (Transmission's
	// Basic auth, qBittorrent's login cookie), so the API token is not
	// asked for. Otherwise the token applies as to every API route.
	OwnAuth bool
}

// NewHandler returns the API's http.Handler serving b.
func NewHandler(b Backend, opts Options) http.Handler {
	_, hd := newHandler(b, opts)
	return hd
}

// newHandler returns the handler's state (for tests) and the http.Handler
// that serves it.
func newHandler(b Backend, opts Options) (*handler, http.Handler) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{b: b, opts: opts, log: opts.Logger, tickets: newTicketKey()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /add/magnet", h.addMagnetCompat)
	mux.HandleFunc("POST /api/v1/torrents", h.add)
	mux.HandleFunc("GET /api/v1/torrents", h.list)
	mux.HandleFunc("GET /api/v1/torrents/{infohash}", h.get)
	mux.HandleFunc("POST /api/v1/torrents/{infohash}/pause", h.pause)
	mux.HandleFunc("POST /api/v1/torrents/{infohash}/resume", h.resume)
	mux.HandleFunc("DELETE /api/v1/torrents/{infohash}", h.remove)
	mux.HandleFunc("PATCH /api/v1/torrents/{infohash}", h.update)
	mux.HandleFunc("PATCH /api/v1/torrents/{infohash}/files", h.setFiles)
	mux.HandleFunc("GET /api/v1/torrents/{infohash}/pieces", h.pieces)
	mux.HandleFunc("GET /api/v1/torrents/{infohash}/files/{index}/stream", h.stream)
	mux.HandleFunc("POST /api/v1/torrents/{infohash}/files/{index}/stream-ticket", h.streamTicket)
	mux.HandleFunc("POST /api/v1/torrents/{infohash}/recheck", h.recheck)
	mux.HandleFunc("POST /api/v1/torrents/{infohash}/move", h.move)
	mux.HandleFunc("GET /api/v1/session", h.settings)
	mux.HandleFunc("PATCH /api/v1/session", h.updateSettings)
	mux.HandleFunc("GET /api/v1/free-space", h.freeSpaceRoute)
	mux.HandleFunc("GET /api/v1/dht", h.dhtStats)
	h.registerOrganizer(mux) // categories.go, queue.go
	h.registerRenamer(mux)   // rename.go
	mux.HandleFunc("GET /api/v1/events", h.events)
	ui := webui.Handler()
	mux.Handle("GET /{$}", ui)
	mux.Handle("GET "+webui.Prefix, ui)

	for _, m := range opts.Mounts {
		if !m.OwnAuth {
			mux.Handle(m.Pattern, m.Handler)
		}
	}

	var next http.Handler = jsonFallbacks(mux)
	next = h.auth(next)
	if own := ownAuthMounts(opts.Mounts); own != nil {
		own.Handle("/", next)
		next = own
	}
	next = h.limitBody(next)
	next = guard(opts, nil, next) // logRequests records the refusals
	next = h.recoverPanics(next)
	return h, h.logRequests(next)
}

type handler struct {
	b       Backend
	opts    Options
	log     *slog.Logger
	tickets *ticketKey // signs and checks stream tickets (ticket.go)
	rows    rowCache   // the list's encoded rows (listjson.go)
}

// ownAuthMounts returns a mux with the mounts that authenticate requests
// themselves, or nil when there are none. The caller adds "/" for the rest.
func ownAuthMounts(mounts []Mount) *http.ServeMux {
	var mux *http.ServeMux
	for _, m := range mounts {
		if m.OwnAuth {
			if mux == nil {
				mux = http.NewServeMux()
			}
			mux.Handle(m.Pattern, m.Handler)
		}
	}
	return mux
}
