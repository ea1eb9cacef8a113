package torrent

import (
	"path/filepath"
)

// Relocate points the torrent at data already in dir, without moving any
// file (Transmission's torrent-set-location with move false): running
// transfers stop and the data found in dir is checked, so what is missing
// there is downloaded again. Before the metadata is known it only changes
// where the files will be written.
func (t *Torrent) Relocate(dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	var result error
	err = t.do(func() {
		if t.moving || t.renaming || t.state == StateChecking {
			result = ErrBusy
			return
		}
		if dir == t.cfg.SaveDir {
			return
		}
		t.log.Info("relocated data", "from", t.cfg.SaveDir, "to", dir)
		t.cfg.SaveDir = dir
		if t.info == nil {
			t.publish()
			return
		}
		result = t.recheck(nil) // closes the peers and the old storage

	})
	if err != nil {
		return err
	}
	return result
}

// Reannounce asks the torrent's trackers for peers now (within their
// minimum interval). It reports false when no announcer runs: the torrent
// is paused, has no trackers, or has not started yet.
func (t *Torrent) Reannounce() bool {
	ok := false
	_ = t.do(func() {
		if a := t.announcer.Load(); a != nil && t.annRunning {
			a.Reannounce()
			ok = true
		}
	})
	return ok
}
