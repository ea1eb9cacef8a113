package session

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gobit/gobit/internal/store"
	"github.com/gobit/gobit/internal/torrent"
)

// SetLocation points a torrent at data already in dir without moving any
// file (Move moves them): the data found there is checked and what is
// missing is downloaded again. The new directory is saved first.
func (s *Session) SetLocation(infoHash, dir string) error {
	if strings.TrimSpace(dir) == "" {
		return fmt.Errorf("%w: empty path", ErrInvalid)
	}
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("%w: %q is not an absolute path", ErrInvalid, dir)
	}
	abs := filepath.Clean(dir)
	e, err := s.lookup(infoHash)
	if err != nil {
		return err
	}
	return s.change(e, "torrent not relocated", func(r *store.Torrent) { r.SaveDir = abs }, func() error {
		if err := e.t.Relocate(abs); err != nil {
			if errors.Is(err, torrent.ErrBusy) {
				return fmt.Errorf("%w: %w", ErrConflict, err)
			}
			return err
		}
		s.mu.Lock()
		e.saveDir = abs
		s.mu.Unlock()
		return nil
	})
}

// Reannounce asks a torrent's trackers for peers now (as soon as their
// minimum interval allows). A torrent that announces to no tracker (paused,
// or without trackers) is an ErrConflict.
func (s *Session) Reannounce(infoHash string) error {
	e, err := s.lookup(infoHash)
	if err != nil {
		return err
	}
	if !e.t.Reannounce() {
		return fmt.Errorf("%w: the torrent is not announcing to any tracker (paused, or it has none)", ErrConflict)
	}
	return nil
}
