package session

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/gobit/gobit/internal/store"
	"github.com/gobit/gobit/internal/torrent"
)

// MaxAddBatch bounds the requests of one AddMany call.
const MaxAddBatch = 10000

// addItem is one add request worked out: the torrent's configuration, its
// directory and the record to save.
type addItem struct {
	tc      torrent.Config
	saveDir string
	paused  bool
	rec     store.Torrent
}

// AddMany adds several torrents and starts them, each as Add would, with
// their records saved in one store transaction (one fsync for all of them,
// however many) and the session-wide work an add triggers done once for
// the batch. The answer has one status and one error per request, in the
// order of reqs: a request that fails (invalid, already added, not saved)
// does not stop the others. At most MaxAddBatch requests are taken; the
// ones beyond fail with ErrInvalid.
func (s *Session) AddMany(ctx context.Context, reqs []AddRequest) ([]Status, []error) {
	sts, errs := make([]Status, len(reqs)), make([]error, len(reqs))
	for i := MaxAddBatch; i < len(reqs); i++ {
		errs[i] = fmt.Errorf("%w: more than %d torrents in one add", ErrInvalid, MaxAddBatch)
	}
	reqs = reqs[:min(len(reqs), MaxAddBatch)]
	// Each torrent is worked out (a URL fetched) first, with no lock held.
	type resolved struct {
		tc  torrent.Config
		raw []byte
	}
	res := make([]resolved, len(reqs))
	for i := range reqs {
		if errs[i] = checkAddDir(reqs[i]); errs[i] != nil {
			continue
		}
		res[i].tc, res[i].raw, errs[i] = s.resolve(ctx, reqs[i])
	}
	// labelMu, held until the records are saved, keeps the categories
	// named from being deleted meanwhile (categories.go).
	for i, r := range reqs {
		if r.Category != "" && errs[i] == nil {
			s.labelMu.Lock()
			defer s.labelMu.Unlock()
			break
		}
	}
	items := make([]addItem, 0, len(reqs))
	idx := make([]int, 0, len(reqs)) // items[k] is reqs[idx[k]]
	for i := range reqs {
		if errs[i] != nil {
			continue
		}
		it, err := s.prepareAdd(reqs[i], res[i].tc, res[i].raw)
		if err != nil {
			errs[i] = err
			continue
		}
		items = append(items, it)
		idx = append(idx, i)
	}
	if len(items) == 0 {
		return sts, errs
	}
	entries, addErrs := s.addSaved(items)
	var dhtDue []*entry
	added := 0
	for k, e := range entries {
		i := idx[k]
		if addErrs[k] != nil {
			errs[i] = addErrs[k]
			continue
		}
		added++
		sts[i] = statusOf(e)
		if st := e.t.Stats().State; s.dht != nil && !e.t.Private() && st != torrent.StatePaused && st != torrent.StateError {
			dhtDue = append(dhtDue, e)
		}
	}
	if len(items) > 1 { // each logged at debug level (start)
		s.log.Info("torrents added", "count", added, "failed", len(reqs)-added)
	}
	s.kickDiscovery()
	if len(dhtDue) > 0 {
		// Look the new torrents up now; the periodic tick handles the
		// rest (a whole tick here would cost every torrent's status).
		now := time.Now()
		s.mu.Lock()
		for _, e := range dhtDue {
			s.dhtLast[e.t.InfoHash()] = now
		}
		s.mu.Unlock()
		for _, e := range dhtDue {
			s.dhtAnnounce(e)
		}
	}
	return sts, errs
}

// checkAddDir refuses a relative download directory: it would be
// resolved against the daemon's working directory, which the client
// neither knows nor chose.
func checkAddDir(req AddRequest) error {
	if req.DownloadDir != "" && !filepath.IsAbs(req.DownloadDir) {
		return fmt.Errorf("%w: download directory %q is not an absolute path", ErrInvalid, req.DownloadDir)
	}
	return nil
}

// prepareAdd works out what to save and start for an add request whose
// torrent is tc (raw its .torrent, nil for a magnet). The caller holds
// labelMu when req names a category.
func (s *Session) prepareAdd(req AddRequest, tc torrent.Config, raw []byte) (addItem, error) {
	dir, err := s.addLabels(&req)
	if err != nil {
		return addItem{}, err
	}
	saveDir := s.cfg.DownloadDir
	if dir != "" {
		saveDir = dir
	}
	if abs, err := filepath.Abs(saveDir); err == nil {
		saveDir = abs
	}
	if err := s.dirs.check(saveDir); err != nil {
		if dir != "" {
			err = fmt.Errorf("%w: %w", ErrInvalid, err) // the client's choice
		}
		return addItem{}, err
	}
	rec := store.Torrent{InfoHash: tc.InfoHash, Trackers: tc.Trackers, SaveDir: saveDir, AddedAt: time.Now(),
		Category: req.Category, Tags: req.Tags}
	if err := applyAddSelection(&tc, &rec, req); err != nil {
		return addItem{}, err
	}
	if tc.MetaInfo != nil {
		rec.Torrent = raw
	} else {
		rec.Magnet = strings.TrimSpace(req.URI)
	}
	return addItem{tc: tc, saveDir: saveDir, paused: req.Paused, rec: rec}, nil
}
