package session

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"
)

// CheckDownloadDir makes sure torrents can be saved in dir: it creates dir
// (and missing parents, mode 0755) if it does not exist, as Transmission and
// qBittorrent do, and checks that a file can be created in it. The error
// names the directory and says what is wrong, so that an unusable download
// directory is reported when the daemon starts or a torrent is added, not
// by the first piece that fails to be written.
func CheckDownloadDir(dir string) error {
	if dir == "" {
		return errors.New("download directory: empty path")
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("download directory %s does not exist and cannot be created: %w", dir, err)
		}
	case err != nil:
		return fmt.Errorf("download directory %s: %w", dir, cause(err))
	case !fi.IsDir():
		return fmt.Errorf("download directory %s is not a directory", dir)
	}
	f, err := os.CreateTemp(dir, ".gobit-write-check-*")
	if err != nil {
		return fmt.Errorf("download directory %s is not writable: %w", dir, cause(err))
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// cause returns the system's reason inside a *fs.PathError (e.g.
// "permission denied"), so that a message names the directory once and not
// the name of a probe file.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// dirCheckTTL is how long a download directory that passed
// CheckDownloadDir is trusted without checking it again: adding thousands
// of torrents to one directory need not create and delete a probe file in
// it for each (the write of each torrent's data would still report a
// directory gone bad meanwhile).
const dirCheckTTL = 10 * time.Second

// maxDirChecks bounds the directories dirChecks remembers.
const maxDirChecks = 64

// dirChecks remembers recent successful directory checks; safe for
// concurrent use.
type dirChecks struct {
	mu sync.Mutex
	ok map[string]time.Time
}

// check runs CheckDownloadDir(dir) unless dir passed it within
// dirCheckTTL.
func (d *dirChecks) check(dir string) error {
	now := time.Now()
	d.mu.Lock()
	at, ok := d.ok[dir]
	d.mu.Unlock()
	if ok && now.Sub(at) < dirCheckTTL && now.Sub(at) >= 0 {
		return nil
	}
	if err := CheckDownloadDir(dir); err != nil {
		d.mu.Lock()
		delete(d.ok, dir)
		d.mu.Unlock()
		return err
	}
	d.mu.Lock()
	if d.ok == nil || len(d.ok) >= maxDirChecks {
		d.ok = make(map[string]time.Time)
	}
	d.ok[dir] = now
	d.mu.Unlock()
	return nil
}
