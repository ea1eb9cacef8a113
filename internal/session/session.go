// Package session holds all torrents of one gobit process: the listen
// socket, connection limits, the tracker client and the list of torrents.
package session

import (
	"context"
	"errors"
	"log/slog"
)

// Config configures a Session. The zero value of each field means its
// documented default.
type Config struct {
	// DownloadDir is where torrents are saved; a multi-file torrent becomes a
	// folder named after the torrent inside it.
	DownloadDir string
	// DataDir holds persistent state (resume data, settings).
	DataDir string
	// ListenAddr is the host the peer listener binds (default all
	// interfaces; tests use 127.0.0.1).
	ListenAddr string
	// Port is the TCP peer listen port; 0 picks a free one. Default 6881 is
	// applied by the CLI, not here.
	Port int
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
}

// AddRequest is what a user asks the session to add: exactly one of URI (a
// magnet, or an http(s) URL of a .torrent) and Torrent (.torrent bytes).
type AddRequest struct {
	URI     string
	Torrent []byte
	// DownloadDir overrides Config.DownloadDir for this torrent when set.
	DownloadDir string
}

// Session is a running set of torrents.
type Session struct {
	cfg Config
}

var errTODO = errors.New("session: not implemented yet")

// New starts a session.
func New(cfg Config) (*Session, error) { return &Session{cfg: cfg}, nil }

// Close stops every torrent and the listener.
func (s *Session) Close() error { return nil }

// Port returns the TCP port peers can connect to.
func (s *Session) Port() int { return s.cfg.Port }

// Add adds a torrent and starts it.
func (s *Session) Add(ctx context.Context, req AddRequest) (Status, error) { return Status{}, errTODO }

// List returns the status of every torrent, in the order they were added.
func (s *Session) List() []Status { return nil }

// Get returns one torrent's details by hex info hash.
func (s *Session) Get(infoHash string) (Detail, error) { return Detail{}, ErrNotFound }

// Pause stops a torrent's transfers and announces "stopped".
func (s *Session) Pause(infoHash string) error { return errTODO }

// Resume restarts a paused torrent.
func (s *Session) Resume(infoHash string) error { return errTODO }

// Remove removes a torrent, deleting its files when deleteData is set.
func (s *Session) Remove(infoHash string, deleteData bool) error { return errTODO }
