package session

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
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
