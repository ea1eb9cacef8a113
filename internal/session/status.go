package session

import (
	"errors"
	"time"
)

// Sentinel errors callers branch on. The API maps them to HTTP status codes.
var (
	// ErrNotFound means no torrent with the given info hash is in the session.
	ErrNotFound = errors.New("torrent not found")
	// ErrExists means the torrent is already in the session.
	ErrExists = errors.New("torrent already added")
	// ErrInvalid wraps errors caused by bad user input: an unparsable magnet
	// or .torrent, a bad URL.
	ErrInvalid = errors.New("invalid input")
	// ErrConflict means the request cannot run in the torrent's current
	// state (e.g. a recheck while moving, a move before the metadata).
	ErrConflict = errors.New("conflicting operation")
	// ErrClosed means the session has been closed.
	ErrClosed = errors.New("session closed")
)

// ExistsError is Add's error for a torrent already in the session; it
// matches ErrExists (errors.Is) and names the torrent.
type ExistsError struct {
	InfoHash string
}

func (e *ExistsError) Error() string { return ErrExists.Error() + ": " + e.InfoHash }

// Is reports whether target is ErrExists.
func (e *ExistsError) Is(target error) bool { return target == ErrExists }

// State is the lifecycle state of a torrent.
type State string

// Torrent states.
const (
	StateMetadata    State = "metadata"    // fetching the info dictionary of a magnet
	StateChecking    State = "checking"    // verifying data already on disk
	StateDownloading State = "downloading" // fetching pieces
	StateSeeding     State = "seeding"     // complete, uploading
	StatePaused      State = "paused"      // stopped by the user
	StateError       State = "error"       // stopped by an error; see Status.Error
	StateQueued      State = "queued"      // waiting for a slot of the queue limits (queue.go)
)

// Status is a point-in-time summary of one torrent, as shown by the API's
// torrent list.
type Status struct {
	InfoHash string `json:"info_hash"`
	// Name is the name the user gave the torrent (TorrentUpdate.Name),
	// else its own; OriginalName is always its own (the metadata's, or
	// the magnet's until the metadata is known).
	Name         string        `json:"name"`
	OriginalName string        `json:"original_name"`
	State        State         `json:"state"`
	Error        string        `json:"error,omitempty"`
	Progress     float64       `json:"progress"` // 0..1 of the wanted bytes verified
	TotalSize    int64         `json:"total_size"`
	Completed    int64         `json:"completed"` // verified bytes
	Downloaded   int64         `json:"downloaded"`
	Uploaded     int64         `json:"uploaded"`
	DownloadRate int64         `json:"download_rate"` // bytes per second
	UploadRate   int64         `json:"upload_rate"`
	Peers        int           `json:"peers"`
	Seeds        int           `json:"seeds"`
	ETA          time.Duration `json:"-"`
	ETASeconds   int64         `json:"eta"` // -1 when unknown
	SaveDir      string        `json:"save_dir"`
	// ContentPath is where the torrent's content is: its single file, or
	// the folder its files are in, under SaveDir ("" before the metadata
	// is known; SaveDir when renamed files no longer share a top-level
	// folder).
	ContentPath string    `json:"content_path"`
	AddedAt     time.Time `json:"added_at"`
	Ratio       float64   `json:"ratio"`
	// The torrent's own limits: bytes/s (0 unlimited), ratio and seconds
	// (0 none: the session's apply), unchoke slots (-1 unlimited).
	UploadLimit   int64   `json:"upload_limit"`
	DownloadLimit int64   `json:"download_limit"`
	RatioLimit    float64 `json:"ratio_limit"`
	SeedTimeLimit int64   `json:"seed_time_limit"`
	UploadSlots   int     `json:"upload_slots"`
	// Finished is true when seeding stopped because a limit was reached.
	Finished bool `json:"finished"`
	// Category is the torrent's category ("" for none); Tags its tags
	// (never null).
	Category string   `json:"category"`
	Tags     []string `json:"tags"`
	// QueuePosition is the torrent's place in the queue, 1 first; Forced
	// is true for a torrent force-started past the queue limits.
	QueuePosition int  `json:"queue_position"`
	Forced        bool `json:"forced"`
	// WantedSize and WantedCompleted count the bytes of the pieces that
	// overlap a file not skipped (TotalSize and Completed when no file is).
	WantedSize      int64 `json:"wanted_size"`
	WantedCompleted int64 `json:"wanted_completed"`
	// The piece order: index order, and first and last piece of each file
	// first.
	Sequential          bool `json:"sequential"`
	FirstLastPieceFirst bool `json:"first_last_piece_first"`
	// PeersSending counts the peers sending us pieces (they unchoke us and
	// we want their pieces), PeersReceiving those we send pieces to.
	PeersSending   int `json:"peers_sending"`
	PeersReceiving int `json:"peers_receiving"`
}

// Settings are the session-wide settings that can change at run time.
type Settings struct {
	UploadLimit   int64   `json:"upload_limit"`    // bytes/s, 0 unlimited
	DownloadLimit int64   `json:"download_limit"`  // bytes/s, 0 unlimited
	RatioLimit    float64 `json:"ratio_limit"`     // 0 none
	SeedTimeLimit int64   `json:"seed_time_limit"` // seconds, 0 none
	// Queue limits (queue.go): torrents downloading, seeding, and running
	// in all at once; 0 unlimited.
	MaxActiveDownloads int64 `json:"max_active_downloads"`
	MaxActiveSeeds     int64 `json:"max_active_seeds"`
	MaxActive          int64 `json:"max_active"`
	// DownloadDir is the directory torrents are saved in unless their add
	// or their category names another (the daemon's --download-dir,
	// absolute). It cannot be changed at run time.
	DownloadDir string `json:"download_dir"`
	// NetPathStatus is the proxy, bound interface, kill switch and
	// blocklist state (network.go); read-only.
	NetPathStatus
}

// SettingsUpdate changes Settings; nil fields are left alone.
type SettingsUpdate struct {
	UploadLimit        *int64   `json:"upload_limit"`
	DownloadLimit      *int64   `json:"download_limit"`
	RatioLimit         *float64 `json:"ratio_limit"`
	SeedTimeLimit      *int64   `json:"seed_time_limit"`
	MaxActiveDownloads *int64   `json:"max_active_downloads"`
	MaxActiveSeeds     *int64   `json:"max_active_seeds"`
	MaxActive          *int64   `json:"max_active"`
}

// TorrentUpdate changes one torrent's limits; nil fields are left alone.
type TorrentUpdate struct {
	UploadLimit   *int64   `json:"upload_limit"`
	DownloadLimit *int64   `json:"download_limit"`
	RatioLimit    *float64 `json:"ratio_limit"`
	SeedTimeLimit *int64   `json:"seed_time_limit"`
	UploadSlots   *int     `json:"upload_slots"`
	// Category moves the torrent to a category ("" for none); Tags
	// replaces its tags; AddTags and RemoveTags add and remove some
	// (applied after Tags).
	Category   *string   `json:"category"`
	Tags       *[]string `json:"tags"`
	AddTags    []string  `json:"add_tags"`
	RemoveTags []string  `json:"remove_tags"`
	// Sequential and FirstLastPieceFirst change the piece order.
	Sequential          *bool `json:"sequential"`
	FirstLastPieceFirst *bool `json:"first_last_piece_first"`
	// Name gives the torrent a display name (qBittorrent's rename); ""
	// gives it back its own. Its files are not renamed (RenamePath does).
	Name *string `json:"name"`
}

// FileStatus describes one file of a torrent.
type FileStatus struct {
	Index     int     `json:"index"` // the file's index, for priorities and streaming
	Path      string  `json:"path"`  // relative to the save directory
	Size      int64   `json:"size"`
	Completed int64   `json:"completed"` // bytes of the file in verified pieces
	Progress  float64 `json:"progress"`  // Completed / Size, 0..1 (1 for an empty file)
	Priority  string  `json:"priority"`  // skip, low, normal or high
}

// PieceMap is a torrent's verified pieces, for a pieces map.
type PieceMap struct {
	Pieces int    `json:"pieces"` // number of pieces
	Have   []byte `json:"have"`   // bitfield, first piece in the high bit of the first byte (base64 in JSON)
}

// TrackerStatus describes one tracker of a torrent.
type TrackerStatus struct {
	URL      string    `json:"url"`
	Tier     int       `json:"tier"`
	Status   string    `json:"status"`          // "not contacted", "updating", "working", "error"
	Error    string    `json:"error,omitempty"` // the last announce's error
	Peers    int       `json:"peers"`           // peers returned by the last announce
	Seeders  int       `json:"seeders"`
	Leechers int       `json:"leechers"`
	LastTime time.Time `json:"last_announce,omitzero"`
	NextTime time.Time `json:"next_announce,omitzero"`
}

// PeerStatus describes one connected peer of a torrent.
type PeerStatus struct {
	Addr      string `json:"addr"`
	Client    string `json:"client"`
	Source    string `json:"source"` // tracker, dht, pex, lsd, incoming, user
	Outgoing  bool   `json:"outgoing"`
	Encrypted bool   `json:"encrypted"` // RC4 stream (MSE)
	// Encryption is "rc4" (an MSE handshake and an RC4 stream),
	// "plaintext" (an MSE handshake, then a plain stream) or "none" (a
	// plain handshake).
	Encryption string `json:"encryption"`
	// Transport is "tcp" or "utp".
	Transport    string  `json:"transport"`
	Progress     float64 `json:"progress"`
	DownloadRate int64   `json:"download_rate"`
	UploadRate   int64   `json:"upload_rate"`
	Downloaded   int64   `json:"downloaded"`
	Uploaded     int64   `json:"uploaded"`
	Flags        string  `json:"flags"`
	// IPVersion is 4 or 6: the IP version of the connection.
	IPVersion int `json:"ip_version"`
}

// Detail is a Status plus the torrent's files and trackers, as shown by the
// API for one torrent.
type Detail struct {
	Status
	PieceLength int64           `json:"piece_length"`
	Pieces      int             `json:"pieces"`
	Files       []FileStatus    `json:"files"`
	Trackers    []TrackerStatus `json:"trackers"`
	PeerList    []PeerStatus    `json:"peer_list"`
	Magnet      string          `json:"magnet"`
}
