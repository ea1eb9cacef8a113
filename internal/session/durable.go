package session

import (
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/store"
	"github.com/gobit/gobit/internal/torrent"
)

// Acknowledged changes are saved changes.
//
// Every state change the API acknowledges is committed to the state database
// first and made in memory second, so an answer of success always means the
// change survives a restart, and a failed commit (a full disk, an I/O error)
// leaves the torrent exactly as it was:
//
//   - Add writes the torrent's record and only then starts the torrent; on a
//     failed commit nothing is started or listed.
//   - Pause, Resume, UpdateTorrent, Move, RenameFile and RenamePath commit
//     the record as it will be after the change, then make the change. If
//     making it fails (the torrent was closed, a move or rename is
//     refused), the previous record is put back (best effort: if that
//     commit fails too, the error is logged and the next successful save
//     of the torrent corrects it).
//   - Remove deletes the record first; on failure the torrent keeps running.
//   - UpdateSettings commits the new settings, then applies them.
//
// entry.opMu serializes the changes of one torrent with their commits, and
// every other save of its record (metadata, completion), so the database
// always holds the record of the last change made. A removed entry is never
// written again.

// addSaved commits a new torrent's record and then starts it. rec is the
// record to save; the torrent is reserved in s.adding meanwhile, so that a
// concurrent add of the same torrent is refused rather than overwriting it.
func (s *Session) addSaved(tc torrent.Config, saveDir string, paused bool, rec *store.Torrent) (*entry, error) {
	h := tc.InfoHash
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if _, ok := s.torrents[h]; ok {
		s.mu.Unlock()
		return nil, &ExistsError{InfoHash: h.String()}
	}
	if _, ok := s.adding[h]; ok {
		s.mu.Unlock()
		return nil, &ExistsError{InfoHash: h.String()}
	}
	if s.adding == nil {
		s.adding = make(map[metainfo.Hash]struct{})
	}
	s.adding[h] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.adding, h)
		s.mu.Unlock()
	}()

	rec.Name = tc.Name
	rec.Paused = paused
	if s.db != nil {
		if err := s.db.PutTorrent(*rec); err != nil {
			s.log.Error("torrent not added: cannot save it", "info_hash", h.String(), "err", err)
			return nil, saveErr("torrent not added", err)
		}
	}
	e, err := s.start(tc, saveDir, paused, rec, false)
	if err != nil {
		// Closed meanwhile: take the record back so that the refused add
		// does not come back at the next start.
		if s.db != nil {
			if derr := s.db.DeleteTorrent(h); derr != nil {
				s.log.Warn("forget refused torrent", "info_hash", h.String(), "err", derr)
			}
		}
		return nil, err
	}
	return e, nil
}

// change commits e's record as edit makes it, then runs apply, which makes
// the change in memory. op names the change in errors ("pause not done").
// A failed commit is returned as a *SaveError and apply is not run; a failed
// apply puts the previous record back and is returned as is.
func (s *Session) change(e *entry, op string, edit func(*store.Torrent), apply func() error) error {
	return s.changePlanned(e, op, func() (func(*store.Torrent), func() error, error) { return edit, apply, nil })
}

// changePlanned is change for a change worked out from the torrent's
// state: plan runs first, with e's changes serialized (opMu), and returns
// the edit and apply to make, or an error that leaves everything as it was.
func (s *Session) changePlanned(e *entry, op string, plan func() (func(*store.Torrent), func() error, error)) error {
	e.opMu.Lock()
	defer e.opMu.Unlock()
	if e.removed {
		return ErrNotFound
	}
	edit, apply, err := plan()
	if err != nil {
		return err
	}
	s.mu.Lock()
	prev := s.record(e)
	s.mu.Unlock()
	next := prev
	edit(&next)
	if s.db != nil {
		if err := s.db.PutTorrent(next); err != nil {
			s.log.Error(op+": cannot save the change", "info_hash", e.t.InfoHash().String(), "err", err)
			return saveErr(op, err)
		}
	}
	s.mu.Lock()
	e.rec = next
	s.mu.Unlock()
	if err := apply(); err != nil {
		s.mu.Lock()
		e.rec = prev
		s.mu.Unlock()
		if s.db != nil {
			if perr := s.db.PutTorrent(prev); perr != nil {
				s.log.Error(op+": cannot restore the saved record", "info_hash", e.t.InfoHash().String(), "err", perr)
			}
		}
		return err
	}
	return nil
}

// forget deletes e's record and marks it removed, so that nothing writes it
// again. On a failed commit e is untouched and the error is a *SaveError.
func (s *Session) forget(e *entry) error {
	e.opMu.Lock()
	defer e.opMu.Unlock()
	if e.removed {
		return ErrNotFound
	}
	if s.db != nil {
		if err := s.db.DeleteTorrent(e.t.InfoHash()); err != nil {
			s.log.Error("torrent not removed: cannot save the change", "info_hash", e.t.InfoHash().String(), "err", err)
			return saveErr("torrent not removed", err)
		}
	}
	e.removed = true
	return nil
}

// saveSettings commits the session settings st.
func (s *Session) saveSettings(st Settings) error {
	if s.db == nil {
		return nil
	}
	if err := s.db.PutSetting(settingsKey, st); err != nil {
		s.log.Error("settings not changed: cannot save them", "err", err)
		return saveErr("settings not changed", err)
	}
	return nil
}
