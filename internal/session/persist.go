package session

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/storage"
	"github.com/gobit/gobit/internal/store"
	"github.com/gobit/gobit/internal/torrent"
)

// DefaultFlushInterval is how often resume data and totals are saved.
const DefaultFlushInterval = 30 * time.Second

// dbFile is the state database's name inside the data directory.
const dbFile = "gobit.db"

// settingsKey is where session settings are saved.
const settingsKey = "session"

// ErrLocked reports that the data directory's state database is held by
// another process (or another Session in this one).
var ErrLocked = store.ErrLocked

// DataDirInUse reports whether another process (or another Session in this
// one) holds the state database in dir open. It does not create anything.
func DataDirInUse(dir string) bool {
	return store.InUse(filepath.Join(dir, dbFile))
}

// openStore opens (or creates) the state database and loads the saved
// session settings; restoreAll then re-adds the torrents it records.
func (s *Session) openStore() error {
	path := filepath.Join(s.cfg.DataDir, dbFile)
	db, moved, err := store.OpenOrRecover(path, s.log)
	if err != nil {
		return fmt.Errorf("session: state database: %w", err)
	}
	if moved != "" {
		s.log.Warn("state database was unreadable; moved aside and started afresh", "moved_to", moved, "path", path)
	}
	s.db = db
	s.loadCategories()
	s.loadQueue()
	// Settings changed through the API outlive restarts (and take
	// precedence over the command line's).
	var saved Settings
	if ok, err := db.Setting(settingsKey, &saved); err != nil {
		s.log.Warn("ignoring unreadable saved session settings", "err", err)
	} else if ok {
		s.up.SetLimit(saved.UploadLimit)
		s.down.SetLimit(saved.DownloadLimit)
		s.seedLim = torrent.SeedLimits{RatioLimit: saved.RatioLimit, SeedTimeLimit: time.Duration(saved.SeedTimeLimit) * time.Second}
	}
	return nil
}

// restoreAll re-adds the torrents the state database records, each in the
// state it was left in. It runs once the peer port is known.
func (s *Session) restoreAll() error {
	recs, err := s.db.Torrents()
	var cre *store.CorruptRecordsError
	if errors.As(err, &cre) {
		s.log.Warn("skipping unreadable torrent records in the state database", "err", err)
	} else if err != nil {
		return fmt.Errorf("session: read torrents: %w", err)
	}
	recs = s.sortByQueue(recs)
	restored := 0
	resumes, err := s.db.Resumes()
	if err != nil {
		s.log.Warn("cannot read resume data; every torrent's data will be checked", "err", err)
	}
	for _, rec := range recs {
		if err := s.restore(rec, resumes); err != nil {
			s.log.Error("cannot restore torrent; it stays in the database", "info_hash", metainfo.Hash(rec.InfoHash).String(), "err", err)
			continue
		}
		restored++
	}
	s.log.Info("torrents restored", "count", restored)
	return nil
}

// restore re-adds one torrent from its record, with its resume data from
// resumes if there is some.
func (s *Session) restore(rec store.Torrent, resumes map[[20]byte]store.Resume) error {
	var tc torrent.Config
	switch {
	case len(rec.Torrent) > 0:
		c, err := configFromTorrent(rec.Torrent)
		if err != nil {
			return err
		}
		tc = c
	case rec.Magnet != "":
		m, err := metainfo.ParseMagnet(rec.Magnet)
		if err != nil {
			return err
		}
		tc = configFromMagnet(m)
		if len(rec.InfoBytes) > 0 {
			info, err := metainfo.ParseInfo(rec.InfoBytes)
			if err == nil && metainfo.Hash(sha1Sum(rec.InfoBytes)) == m.InfoHash {
				tc.MetaInfo = &metainfo.MetaInfo{Info: *info, InfoBytes: rec.InfoBytes, InfoHash: m.InfoHash}
				tc.Name = info.Name
			}
		}
	default:
		return errors.New("record has neither a .torrent nor a magnet")
	}
	if tc.InfoHash != metainfo.Hash(rec.InfoHash) {
		return errors.New("record's info hash does not match its torrent")
	}
	if len(rec.Trackers) > 0 {
		tc.Trackers = rec.Trackers
	}
	if r, ok := resumes[rec.InfoHash]; ok {
		rd := &torrent.ResumeData{NumPieces: r.NumPieces, Have: r.Bitfield}
		for _, f := range r.Files {
			rd.Stamps = append(rd.Stamps, storage.FileStamp{Size: f.Size, ModTime: f.ModTime})
		}
		tc.Resume = rd
	}
	tc.Uploaded, tc.Downloaded = rec.Uploaded, rec.Downloaded
	selectionConfig(&tc, rec)
	tc.UploadLimit, tc.DownloadLimit = rec.Limits.UploadLimit, rec.Limits.DownloadLimit
	tc.SeedLimits = torrent.SeedLimits{RatioLimit: rec.Limits.RatioLimit, SeedTimeLimit: time.Duration(rec.Limits.SeedTimeLimit) * time.Second}
	if rec.Limits.UploadSlots != 0 {
		tc.UploadSlots = rec.Limits.UploadSlots
	}
	_, err := s.start(tc, rec.SaveDir, rec.Paused, &rec, true)
	return err
}

// record builds the database record of an entry from its current state.
func (s *Session) record(e *entry) store.Torrent {
	st := e.t.Stats()
	rec := e.rec
	rec.Name = st.Name
	// A torrent the queue holds is not paused by the user.
	rec.Paused = st.State == torrent.StatePaused && !e.queued.Load()
	rec.Uploaded, rec.Downloaded = st.Uploaded, st.Downloaded
	rec.Limits = store.Limits{
		UploadLimit: st.UploadLimit, DownloadLimit: st.DownloadLimit,
		RatioLimit: st.SeedLimits.RatioLimit, SeedTimeLimit: int64(st.SeedLimits.SeedTimeLimit / time.Second),
		UploadSlots: st.UploadSlots,
	}
	return rec
}

// persist writes an entry's record for a change the session made by itself
// (metadata fetched, download completed); errors are logged (the torrent
// keeps running). Changes a user asks for go through change (durable.go).
func (s *Session) persist(e *entry) {
	if s.db == nil {
		return
	}
	e.opMu.Lock()
	defer e.opMu.Unlock()
	if e.removed {
		return
	}
	s.mu.Lock()
	rec := s.record(e)
	s.mu.Unlock()
	if err := s.db.PutTorrent(rec); err != nil {
		s.log.Error("save torrent state", "info_hash", e.t.InfoHash().String(), "err", err)
	}
}

// flushed is what the last flush of an entry wrote (guarded by
// Session.flushMu): a flush writes nothing for a torrent whose pieces and
// totals have not changed since.
type flushed struct {
	done     bool   // something was written
	have     uint64 // Torrent.HaveVersion then
	up, down int64
}

// flush saves one torrent's resume data (after syncing its files) and
// totals, if they changed since its last flush.
func (s *Session) flush(e *entry) { s.flushEntries([]*entry{e}) }

// flushAll flushes every torrent whose pieces or totals changed, in one
// transaction.
func (s *Session) flushAll() {
	s.mu.Lock()
	entries := make([]*entry, 0, len(s.torrents))
	for _, e := range s.torrents {
		entries = append(entries, e)
	}
	s.mu.Unlock()
	s.flushEntries(entries)
}

// flushPrepWorkers bounds the torrents whose resume data is taken at once
// by a flush (each a call on its loop, a sync and a stat of its files).
const flushPrepWorkers = 16

// flushEntries takes the resume data and totals of each entry that changed
// since its last flush and writes them all in one transaction: an idle
// torrent costs a flush nothing, and 10,000 that changed cost one fsync of
// the database, not 20,000.
func (s *Session) flushEntries(entries []*entry) {
	if s.db == nil || len(entries) == 0 {
		return
	}
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	items := make([]store.Flush, len(entries))
	marks := make([]flushed, len(entries))
	want := make([]bool, len(entries))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(flushPrepWorkers, len(entries)) {
		wg.Go(func() {
			for i := range next {
				items[i], marks[i], want[i] = s.flushItem(entries[i])
			}
		})
	}
	for i := range entries {
		next <- i
	}
	close(next)
	wg.Wait()
	var batch []store.Flush
	for i := range entries {
		if want[i] {
			batch = append(batch, items[i])
		}
	}
	if len(batch) == 0 {
		return
	}
	if err := s.db.PutFlush(batch); err != nil {
		s.log.Error("save resume data and totals", "torrents", len(batch), "err", err)
		return
	}
	for i, e := range entries {
		if want[i] {
			e.flushed = marks[i]
		}
	}
}

// flushItem returns what a flush writes for e, and false when nothing
// changed since its last flush. s.flushMu is held.
func (s *Session) flushItem(e *entry) (store.Flush, flushed, bool) {
	h := e.t.InfoHash()
	gen := e.t.HaveVersion() // before the snapshot: a later change flushes again
	st := e.t.Stats()
	mark := flushed{done: true, have: gen, up: st.Uploaded, down: st.Downloaded}
	last := e.flushed
	if last.done && last.have == gen && last.up == st.Uploaded && last.down == st.Downloaded {
		return store.Flush{}, last, false
	}
	item := store.Flush{InfoHash: h, Uploaded: st.Uploaded, Downloaded: st.Downloaded}
	if last.done && last.have == gen {
		return item, mark, true // only the totals moved
	}
	rd, ok, err := e.t.ResumeData()
	if err != nil {
		s.log.Warn("resume data", "info_hash", h.String(), "err", err)
		mark.have = last.have // try the resume data again next time
	} else if ok {
		r := store.Resume{NumPieces: rd.NumPieces, Bitfield: rd.Have, SavedAt: time.Now()}
		for _, f := range rd.Stamps {
			r.Files = append(r.Files, store.FileStamp{Size: f.Size, ModTime: f.ModTime})
		}
		item.Resume = &r
	} else {
		mark.have = last.have // no data yet (checking, no metadata)
	}
	return item, mark, true
}

// flushLoop saves resume data periodically until the session closes.
func (s *Session) flushLoop() {
	defer s.wg.Done()
	every := s.cfg.FlushInterval
	if every <= 0 {
		every = DefaultFlushInterval
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			s.flushAll()
		case <-s.closeC:
			return
		}
	}
}

// onMetadata records a magnet's info dictionary once fetched.
func (s *Session) onMetadata(h metainfo.Hash, infoBytes []byte) {
	go func() {
		s.mu.Lock()
		e := s.torrents[h]
		if e != nil {
			e.rec.InfoBytes = infoBytes
			foldOnly(&e.rec, infoBytes)
		}
		s.mu.Unlock()
		if e != nil {
			s.persist(e)
		}
	}()
}

// onFileComplete flushes resume data when a file of a torrent completes,
// so a restart never re-hashes a finished file.
func (s *Session) onFileComplete(h metainfo.Hash) {
	go func() {
		s.mu.Lock()
		e := s.torrents[h]
		s.mu.Unlock()
		if e != nil {
			s.flush(e)
		}
	}()
}

// onComplete records completion and flushes the resume data at once, so a
// finished download never needs re-checking.
func (s *Session) onComplete(h metainfo.Hash) {
	go func() {
		s.mu.Lock()
		e := s.torrents[h]
		if e != nil {
			e.rec.CompletedAt = time.Now()
		}
		s.mu.Unlock()
		if e != nil {
			s.persist(e)
			s.flush(e)
			s.kickQueue()
			s.runOnComplete(e)
		}
	}()
}

func sha1Sum(b []byte) [20]byte { return sha1.Sum(b) }
