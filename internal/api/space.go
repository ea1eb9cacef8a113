package api

import (
	"errors"
	"io/fs"
	"net/http"
	"path/filepath"

	"github.com/gobit/gobit/internal/diskio"
	"github.com/gobit/gobit/internal/session"
)

// SessionInfo is the answer of GET and PATCH /api/v1/session: the
// session's settings and the free space of its download directory.
type SessionInfo struct {
	session.Settings
	// FreeSpace and TotalSpace are the bytes available to the daemon and
	// the size of the file system holding DownloadDir; both are 0 when
	// they cannot be read, and FreeSpaceError then says why.
	FreeSpace      uint64 `json:"free_space"`
	TotalSpace     uint64 `json:"total_space"`
	FreeSpaceError string `json:"free_space_error,omitempty"`
	// Network is the session's network state: IP versions, listen and
	// external addresses, the router port mapping. Absent from a backend
	// without a network (tests).
	Network *session.NetworkStatus `json:"network,omitempty"`
}

// networkBackend is a Backend that reports its network state.
type networkBackend interface {
	Network() session.NetworkStatus
}

// withNetwork adds b's network state to info when b has one.
func withNetwork(info SessionInfo, b Backend) SessionInfo {
	if nb, ok := b.(networkBackend); ok {
		n := nb.Network()
		info.Network = &n
	}
	return info
}

// FreeSpaceBody is the answer of GET /api/v1/free-space.
type FreeSpaceBody struct {
	// Path is the directory asked about, cleaned.
	Path string `json:"path"`
	// FreeSpace and TotalSpace are the bytes available to the daemon and
	// the size of the file system that holds Path (or would hold it: a
	// directory not created yet is measured at its nearest existing
	// parent).
	FreeSpace  uint64 `json:"free_space"`
	TotalSpace uint64 `json:"total_space"`
}

// maxParentWalk bounds how far freeSpace climbs from a missing directory
// to an existing parent.
const maxParentWalk = 256

// freeSpace measures the file system that holds dir, or would hold it: a
// directory that does not exist yet (a save path that is created on the
// first add) is measured at its nearest existing parent.
func freeSpace(dir string) (free, total uint64, err error) {
	p := filepath.Clean(dir)
	for range maxParentWalk {
		free, total, err = diskio.FreeSpace(p)
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			return free, total, err
		}
		parent := filepath.Dir(p)
		if parent == p {
			break
		}
		p = parent
	}
	return 0, 0, err
}

// sessionInfo adds the download directory's free space to s.
func sessionInfo(s session.Settings) SessionInfo {
	info := SessionInfo{Settings: s}
	if s.DownloadDir == "" {
		return info
	}
	free, total, err := freeSpace(s.DownloadDir)
	if err != nil {
		info.FreeSpaceError = freeSpaceMessage(s.DownloadDir, err)
		return info
	}
	info.FreeSpace, info.TotalSpace = free, total
	return info
}

// freeSpaceMessage says why the free space of dir could not be read.
func freeSpaceMessage(dir string, err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return "cannot read the free space of " + truncate(dir, 200) + ": " + err.Error()
}

// freeSpaceRoute serves GET /api/v1/free-space?path=/abs/dir.
func (h *handler) freeSpaceRoute(w http.ResponseWriter, r *http.Request) {
	dir := r.URL.Query().Get("path")
	if dir == "" {
		h.fail(w, r, badRequest("missing ?path=: the absolute directory to measure"))
		return
	}
	if err := checkDir("path", dir); err != nil {
		h.fail(w, r, err)
		return
	}
	dir = filepath.Clean(dir)
	free, total, err := freeSpace(dir)
	if err != nil {
		// The path is the client's: a file in the way, a directory it
		// may not read.
		h.fail(w, r, &httpError{status: http.StatusBadRequest, msg: freeSpaceMessage(dir, err)})
		return
	}
	writeJSON(w, http.StatusOK, FreeSpaceBody{Path: dir, FreeSpace: free, TotalSpace: total})
}
