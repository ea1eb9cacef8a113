package swarmtest

import (
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/tracker"
)

// NewSession starts a gobit session listening on 127.0.0.1 with a free port,
// announcing often, saving into dir. It is closed at test cleanup.
func NewSession(t testing.TB, dir string) *session.Session {
	t.Helper()
	return NewSessionWith(t, session.Config{DownloadDir: dir})
}

// NewSessionWith starts a session like NewSession but lets the test set
// fields of the configuration; DownloadDir, ListenAddr, announce interval,
// tracker timeouts and Logger are filled in when left zero.
func NewSessionWith(t testing.TB, cfg session.Config) *session.Session {
	t.Helper()
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1"
	}
	if cfg.AnnounceMinInterval == 0 {
		cfg.AnnounceMinInterval = time.Second
	}
	if cfg.Tracker == (tracker.ClientConfig{}) {
		cfg.Tracker = tracker.ClientConfig{UDPTimeout: time.Second, UDPMaxRetries: 2}
	}
	if cfg.Logger == nil {
		cfg.Logger = Logger(t)
	}
	s, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Status returns a torrent's current status, failing the test if the
// session does not know it.
func Status(t testing.TB, s *session.Session, infoHash string) session.Status {
	t.Helper()
	d, err := s.Get(infoHash)
	if err != nil {
		t.Fatalf("get %s: %v", infoHash, err)
	}
	return d.Status
}
