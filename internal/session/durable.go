package session

import (
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/store"
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

// addSaved commits the records of new torrents, all in one transaction,
// and then starts each whose record was saved. Each torrent is reserved in
// s.adding meanwhile, so that a concurrent add of the same torrent is
// refused rather than overwriting it. errs[i] is set for each item that
// was not added (already there, not saved, closed meanwhile), and
// entries[i] for each that was.
func (s *Session) addSaved(items []addItem) (entries []*entry, errs []error) {
	entries, errs = make([]*entry, len(items)), make([]error, len(items))
	s.mu.Lock()
	if s.adding == nil {
		s.adding = make(map[metainfo.Hash]struct{})
	}
	var reserved []int
	for i, it := range items {
		h := it.tc.InfoHash
		switch _, exists := s.torrents[h]; {
		case s.closed:
			errs[i] = ErrClosed
		case exists:
			errs[i] = &ExistsError{InfoHash: h.String()}
		default:
			if _, ok := s.adding[h]; ok {
				errs[i] = &ExistsError{InfoHash: h.String()}
				continue
			}
			s.adding[h] = struct{}{}
			reserved = append(reserved, i)
		}
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		for _, i := range reserved {
			delete(s.adding, items[i].tc.InfoHash)
		}
		s.mu.Unlock()
	}()

	recs := make([]store.Torrent, len(reserved))
	for k, i := range reserved {
		it := &items[i]
		it.rec.Name = it.tc.Name
		it.rec.Paused = it.paused
		recs[k] = it.rec
	}
	if s.db != nil && len(recs) > 0 {
		for k, err := range s.db.PutTorrents(recs) {
			if err != nil {
				i := reserved[k]
				s.log.Error("torrent not added: cannot save it", "info_hash", items[i].tc.InfoHash.String(), "err", err)
				errs[i] = saveErr("torrent not added", err)
			}
		}
	}
	var refused [][20]byte
	for _, i := range reserved {
		if errs[i] != nil {
			continue
		}
		it := &items[i]
		e, err := s.start(it.tc, it.saveDir, it.paused, &it.rec, len(items) > 1)
		if err != nil {
			errs[i] = err
			refused = append(refused, it.tc.InfoHash)
			continue
		}
		entries[i] = e
	}
	// Closed meanwhile: take the records back so that the refused adds do
	// not come back at the next start.
	if s.db != nil && len(refused) > 0 {
		if err := s.db.DeleteTorrents(refused); err != nil {
			s.log.Warn("forget refused torrents", "torrents", len(refused), "err", err)
		}
	}
	return entries, errs
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
