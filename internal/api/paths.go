package api

import (
	"path/filepath"
	"strings"
)

// checkDir validates a directory the API was given in field (download_dir,
// a move's path): it must be absolute. A relative path is refused rather
// than resolved against the daemon's working directory, which no client
// knows (and which a hostile request could use to aim at files the user
// never chose). An empty dir is left to the caller.
func checkDir(field, dir string) error {
	if dir == "" {
		return nil
	}
	if strings.ContainsRune(dir, 0) {
		return badRequest("%s contains a NUL byte", field)
	}
	if !filepath.IsAbs(dir) {
		return badRequest("%s %q must be an absolute path: it names a directory on the daemon's machine, "+
			"and a relative path is never resolved against the daemon's working directory", field, truncate(dir, 200))
	}
	return nil
}
