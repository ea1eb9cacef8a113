package torrent

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/storage"
)

// ErrNoMetadata is returned by operations that need the torrent's files
// while its info dictionary is still unknown.
var ErrNoMetadata = errors.New("torrent: metadata not known yet")

// ErrBusy is returned when a move, rename or recheck is already running.
var ErrBusy = errors.New("torrent: another move, rename or check is running")

// Recheck hashes all of the torrent's data again (e.g. after files were
// changed or repaired behind gobit's back) and continues from what is found.
// It also clears an error state.
func (t *Torrent) Recheck() error {
	var err error
	if derr := t.do(func() { err = t.recheck(nil) }); derr != nil {
		return derr
	}
	return err
}

// recheck restarts from the data check; resume, when set, is trusted for
// unchanged files.
func (t *Torrent) recheck(resume *ResumeData) error {
	if t.info == nil {
		return ErrNoMetadata
	}
	if t.state == StateChecking || t.moving || t.renaming {
		return ErrBusy
	}
	t.closeAllPeers()
	t.stopAnnouncer()
	if t.store != nil {
		t.store.Close()
		t.store = nil
	}
	t.errMsg = ""
	t.checked = false
	t.cfg.Resume = resume
	for _, a := range t.addrs {
		a.failures, a.nextTry = 0, timeZero
	}
	t.setInfo(t.info, t.infoBytes)
	return nil
}

// Move moves the torrent's files to dir and continues there: running
// transfers stop, the files are renamed (copied when dir is on another file
// system), and the data is re-checked, trusting unchanged files. On failure
// the torrent stays where it was.
func (t *Torrent) Move(dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	result := make(chan error, 1)
	err = t.do(func() {
		if t.info == nil {
			result <- ErrNoMetadata
			return
		}
		if t.moving || t.renaming || t.state == StateChecking {
			result <- ErrBusy
			return
		}
		if dir == t.cfg.SaveDir {
			result <- nil
			return
		}
		t.moving = true
		t.closeAllPeers()
		var resume *ResumeData
		if t.checked {
			resume = &ResumeData{NumPieces: t.have.Len(), Have: append([]byte(nil), t.have.Bytes()...)}
		}
		mv := filesMoved{from: t.cfg.SaveDir, to: dir, resume: resume, hadStore: t.store != nil, result: result}
		entries := t.info.FileEntries()
		for i, p := range t.entryPaths() {
			entries[i].Path = p
		}
		go t.moveFiles(mv, t.store, entries)
	})
	if err != nil {
		return err
	}
	return <-result
}

// moveFiles runs off the loop: it waits for the running disk jobs, closes
// old (the storage at mv.from, or nil) and moves the files named in entries
// from mv.from to mv.to, keeping disk jobs out meanwhile (ioMu). It reports
// to the loop as a filesMoved, or to Move's caller when the torrent has
// stopped. Its arguments are copied from the loop before it starts; it
// touches no loop state.
func (t *Torrent) moveFiles(mv filesMoved, old *storage.Storage, entries []metainfo.FileEntry) {
	t.ioMu.Lock()
	if old != nil {
		old.Sync()
		mv.stamps, _ = old.Stamps()
		old.Close()
	}
	mv.err = moveEntries(mv.from, mv.to, entries)
	t.ioMu.Unlock()
	select {
	case t.diskC <- mv:
	case <-t.doneC:
		mv.result <- ErrStopped
	}
}

// handleFilesMoved continues where the files are after a move: re-checks
// the data at the new place, or at the old one when the move failed, and
// tells Move's caller.
func (t *Torrent) handleFilesMoved(mv filesMoved) {
	t.moving = false
	if mv.err != nil {
		mv.result <- mv.err
		if mv.hadStore {
			t.store = nil
			t.recheck(mv.resume) // reopen where it was
		}
		return
	}
	t.log.Info("moved data", "from", mv.from, "to", mv.to)
	t.cfg.SaveDir = mv.to
	if mv.resume != nil {
		mv.resume.Stamps = mv.stamps
	}
	t.store = nil
	mv.result <- t.recheck(mv.resume)
}

// moveEntries moves every existing file of the torrent from one save
// directory to another, creating directories as needed. Paths are the
// sanitized, local FileEntry paths.
func moveEntries(from, to string, entries []metainfo.FileEntry) error {
	if err := os.MkdirAll(to, 0o755); err != nil {
		return fmt.Errorf("move: %w", err)
	}
	var moved [][2]string
	for _, e := range entries {
		if e.Pad || !filepath.IsLocal(e.Path) {
			continue
		}
		src, dst := filepath.Join(from, e.Path), filepath.Join(to, e.Path)
		if _, err := os.Lstat(src); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if _, err := os.Lstat(dst); err == nil {
			return rollback(moved, fmt.Errorf("move: %s already exists", dst))
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return rollback(moved, fmt.Errorf("move: %w", err))
		}
		if err := os.Rename(src, dst); err != nil {
			if err := copyFile(src, dst); err != nil {
				return rollback(moved, fmt.Errorf("move %s: %w", e.Path, err))
			}
			os.Remove(src)
		}
		moved = append(moved, [2]string{src, dst})
	}
	// Remove directories left empty in the old place (never from itself).
	for _, e := range entries {
		for d := filepath.Dir(filepath.Join(from, e.Path)); d != from && len(d) > len(from); d = filepath.Dir(d) {
			if os.Remove(d) != nil {
				break
			}
		}
	}
	return nil
}

func rollback(moved [][2]string, err error) error {
	for i := len(moved) - 1; i >= 0; i-- {
		if os.Rename(moved[i][1], moved[i][0]) != nil {
			if copyFile(moved[i][1], moved[i][0]) == nil {
				os.Remove(moved[i][1])
			}
		}
	}
	return err
}

// copyFile copies src to dst keeping its modification time.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chtimes(dst, fi.ModTime(), fi.ModTime())
}

var timeZero time.Time
