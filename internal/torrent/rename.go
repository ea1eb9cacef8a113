package torrent

import (
	"fmt"
	"maps"
	"path/filepath"
	"strings"

	"github.com/gobit/gobit/internal/storage"
)

// filesRenamed reports the end of RenameFiles' work off the loop: the
// storage's paths after the rename (every file's, by entry index) or the
// error that left them as they were. result is the caller waiting.
type filesRenamed struct {
	paths  []string
	err    error
	result chan<- error
}

func (filesRenamed) diskResult() {}

// entryPaths returns the current path of every file entry (pad files
// included), by index in info.FileEntries: the torrent's own, or the one
// Config.FilePaths gives it. Loop only.
func (t *Torrent) entryPaths() []string {
	entries := t.info.FileEntries()
	paths := make([]string, len(entries))
	for i, e := range entries {
		paths[i] = e.Path
	}
	idx := t.fileEntryIndexes()
	for fi, p := range t.cfg.FilePaths {
		if fi >= 0 && fi < len(idx) && p != "" {
			paths[idx[fi]] = p
		}
	}
	return paths
}

// layout returns the storage layout of the torrent's files at their
// current paths. Loop only.
func (t *Torrent) layout() storage.Layout {
	l := storage.LayoutFromInfo(t.info)
	for i, p := range t.entryPaths() {
		if i < len(l.Files) {
			l.Files[i].Path = p
		}
	}
	return l
}

// RenameFiles gives files of the torrent new paths, by file index (as in
// Stats.Files), relative to the save directory. Paths must be sanitized
// (metainfo.SanitizePath); the storage refuses any that could leave the
// save directory. The files on disk are renamed (those not written yet
// only change where they will be), while the torrent keeps running: its
// disk jobs wait meanwhile (ioMu). Errors: ErrNoMetadata before the
// metadata is known, ErrBusy while a move or another rename runs,
// ErrFileIndex for an index beyond the files, and the storage's
// (storage.ErrExists, storage.ErrInvalidLayout, storage.ErrOutsideDir),
// after which nothing changed.
func (t *Torrent) RenameFiles(renames map[int]string) error {
	result := make(chan error, 1)
	err := t.do(func() {
		if t.info == nil {
			result <- ErrNoMetadata
			return
		}
		if t.moving || t.renaming {
			result <- ErrBusy
			return
		}
		idx := t.fileEntryIndexes()
		byEntry := make(map[int]string, len(renames))
		for fi, p := range renames {
			if fi < 0 || fi >= len(idx) {
				result <- fmt.Errorf("%w: file %d of %d", ErrFileIndex, fi, len(idx))
				return
			}
			byEntry[idx[fi]] = p
		}
		st, temp := t.store, false
		if st == nil {
			// No storage open (its open failed): rename through one of
			// our own. Open does no I/O.
			var err error
			st, err = storage.Open(t.cfg.SaveDir, t.layout(), t.cfg.Storage)
			if err != nil {
				result <- err
				return
			}
			temp = true
		}
		t.renaming = true
		go t.renameFiles(st, temp, byEntry, result)
	})
	if err != nil {
		return err
	}
	return <-result
}

// renameFiles runs off the loop: it waits for the running disk jobs and
// keeps new ones out (ioMu) while the storage renames the files, then
// reports to the loop as a filesRenamed, or to the caller when the torrent
// has stopped. It touches no loop state.
func (t *Torrent) renameFiles(st *storage.Storage, temp bool, renames map[int]string, result chan<- error) {
	t.ioMu.Lock()
	err := st.Rename(renames)
	paths := st.Paths()
	if temp {
		st.Close()
	}
	t.ioMu.Unlock()
	select {
	case t.diskC <- filesRenamed{paths: paths, err: err, result: result}:
	case <-t.doneC:
		result <- ErrStopped
	}
}

// handleFilesRenamed records the files' new paths (kept in cfg.FilePaths,
// so that a later recheck or move uses them) and tells the caller.
func (t *Torrent) handleFilesRenamed(r filesRenamed) {
	t.renaming = false
	if r.err != nil {
		r.result <- r.err
		return
	}
	entries := t.info.FileEntries()
	fp := make(map[int]string)
	for fi, ei := range t.fileEntryIndexes() {
		if ei < len(r.paths) && r.paths[ei] != entries[ei].Path {
			fp[fi] = r.paths[ei]
		}
	}
	t.cfg.FilePaths = fp
	t.setRoot()
	t.log.Info("renamed files", "overridden", len(fp))
	t.publish()
	r.result <- nil
}

// FilePaths returns the files' paths that differ from the torrent's own,
// by file index (nil before the metadata is known).
func (t *Torrent) FilePaths() map[int]string {
	var out map[int]string
	_ = t.read(func() { out = maps.Clone(t.cfg.FilePaths) })
	return out
}

// FileNames returns, by file index (as in Stats.Files), each file's current
// path and the torrent's own path for it. Before the metadata is known it
// returns ErrNoMetadata.
func (t *Torrent) FileNames() (current, original []string, err error) {
	derr := t.do(func() {
		if t.info == nil {
			err = ErrNoMetadata
			return
		}
		entries := t.info.FileEntries()
		paths := t.entryPaths()
		for _, ei := range t.fileEntryIndexes() {
			current = append(current, paths[ei])
			original = append(original, entries[ei].Path)
		}
	})
	if derr != nil {
		return nil, nil, derr
	}
	return current, original, err
}

// setRoot sets t.root from the files' current paths: the path of a
// torrent's only file, else their common first component, or "" when they
// have none. Loop only.
func (t *Torrent) setRoot() {
	t.root = ""
	n := 0
	only := ""
	entries := t.info.FileEntries()
	for i, p := range t.entryPaths() {
		if entries[i].Pad {
			continue
		}
		n++
		top, _, _ := strings.Cut(p, string(filepath.Separator))
		if n == 1 {
			t.root, only = top, p
		} else if top != t.root {
			t.root = ""
			return
		}
	}
	if n == 1 {
		t.root = only
	}
}
