package qbittorrent

import (
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
)

// The routes that change torrents named by the "hashes" parameter ("|"
// separated, or "all"). As in qBittorrent, hashes of no torrent are
// skipped silently.

// targets returns the torrents a hashes parameter names, in queue order
// for "all".
func (h *Handler) targets(f *form) []string {
	all, hs := parseHashes(f.get("hashes"))
	if !all {
		hs = slices.DeleteFunc(hs, func(s string) bool { _, err := metainfo.ParseHash(s); return err != nil })
		return slices.Compact(hs)
	}
	list := h.sess.List()
	out := make([]string, len(list))
	for i, st := range list {
		out[i] = st.InfoHash
	}
	return out
}

// each runs fn on every target and answers: 200, or the status of the
// first error other than an unknown torrent.
func (h *Handler) each(w http.ResponseWriter, f *form, fn func(hash string) error) {
	var first error
	for _, hash := range h.targets(f) {
		err := fn(hash)
		if err == nil || errors.Is(err, session.ErrNotFound) {
			continue
		}
		if first == nil {
			first = err
		}
		h.log.Warn("qbittorrent api: action failed", "info_hash", hash, "err", err)
	}
	if first != nil {
		sessionError(w, first)
		return
	}
	answerOK(w)
}

func (h *Handler) pause(w http.ResponseWriter, _ *http.Request, f *form) {
	h.each(w, f, h.sess.Pause)
}

func (h *Handler) resume(w http.ResponseWriter, _ *http.Request, f *form) {
	h.each(w, f, h.sess.Resume)
}

func (h *Handler) delete(w http.ResponseWriter, _ *http.Request, f *form) {
	del := f.boolean("deleteFiles", false)
	h.each(w, f, func(hash string) error { return h.sess.Remove(hash, del) })
}

func (h *Handler) recheck(w http.ResponseWriter, _ *http.Request, f *form) {
	h.each(w, f, h.sess.Recheck)
}

// reannounce asks the torrents' trackers for peers now. qBittorrent
// answers 200 even for a torrent that is not announcing (paused, or
// without trackers), so that conflict is not an error here.
func (h *Handler) reannounce(w http.ResponseWriter, _ *http.Request, f *form) {
	h.each(w, f, func(hash string) error {
		if err := h.sess.Reannounce(hash); err != nil && !errors.Is(err, session.ErrConflict) {
			return err
		}
		return nil
	})
}

// setForceStart starts the torrents past the queue limits (value=true) or
// returns them to the queue's rule (value=false).
func (h *Handler) setForceStart(w http.ResponseWriter, _ *http.Request, f *form) {
	force := f.boolean("value", false)
	h.each(w, f, func(hash string) error {
		if force {
			return h.sess.ForceStart(hash)
		}
		st, err := h.sess.Get(hash)
		if err != nil {
			return err
		}
		if !st.Forced {
			return nil
		}
		return h.sess.Resume(hash) // clears the force and leaves it to the queue
	})
}

// setLocation moves the torrents' data to location (an absolute path).
func (h *Handler) setLocation(w http.ResponseWriter, _ *http.Request, f *form) {
	loc := strings.TrimSpace(f.get("location"))
	if loc == "" {
		text(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if !filepath.IsAbs(loc) {
		text(w, http.StatusConflict, "Cannot make save path")
		return
	}
	h.each(w, f, func(hash string) error { return h.sess.Move(hash, loc) })
}

// rename gives a torrent a display name (its files keep theirs): 409 for
// a blank name, as qBittorrent.
func (h *Handler) rename(w http.ResponseWriter, _ *http.Request, f *form) {
	if !f.has("name") {
		text(w, http.StatusBadRequest, "Bad Request")
		return
	}
	d, ok := h.detail(w, f)
	if !ok {
		return
	}
	name := strings.TrimSpace(f.get("name"))
	if name == "" {
		text(w, http.StatusConflict, "Incorrect torrent name")
		return
	}
	if _, err := h.sess.UpdateTorrent(d.InfoHash, session.TorrentUpdate{Name: &name}); err != nil {
		renameError(w, err)
		return
	}
	answerOK(w)
}

// renameFile renames one file (renameFile) or a folder of files
// (renameFolder): oldPath and newPath as torrents/files names them, the
// torrent's folder first. 409 for a path that is not a file (not a
// folder), an unsafe path or one already in use, as qBittorrent.
func (h *Handler) renameFile(folder bool) func(w http.ResponseWriter, r *http.Request, f *form) {
	return func(w http.ResponseWriter, _ *http.Request, f *form) {
		if !f.has("oldPath") || !f.has("newPath") {
			text(w, http.StatusBadRequest, "Bad Request")
			return
		}
		d, ok := h.detail(w, f)
		if !ok {
			return
		}
		from := strings.TrimSuffix(f.get("oldPath"), "/")
		to := strings.TrimSuffix(f.get("newPath"), "/")
		isFile, isFolder := false, false
		for _, fs := range d.Files {
			p := filepath.ToSlash(fs.Path)
			isFile = isFile || p == from
			isFolder = isFolder || strings.HasPrefix(p, from+"/")
		}
		switch {
		case from == "" || to == "":
			text(w, http.StatusConflict, "Invalid path")
			return
		case folder && !isFolder:
			text(w, http.StatusConflict, "No such folder in the torrent")
			return
		case !folder && !isFile:
			text(w, http.StatusConflict, "No such file in the torrent")
			return
		case from == to:
			answerOK(w)
			return
		}
		if _, err := h.sess.RenamePath(d.InfoHash, from, to); err != nil {
			renameError(w, err)
			return
		}
		answerOK(w)
	}
}

// renameError answers a failed rename: qBittorrent answers 409 for an
// invalid or taken path.
func renameError(w http.ResponseWriter, err error) {
	if errors.Is(err, session.ErrInvalid) {
		text(w, http.StatusConflict, err.Error())
		return
	}
	sessionError(w, err)
}

// filePrio sets the priority of the files whose indexes id lists: 0 skip,
// 1 normal, 6 high, 7 maximum (high in gobit).
func (h *Handler) filePrio(w http.ResponseWriter, _ *http.Request, f *form) {
	d, ok := h.detail(w, f)
	if !ok {
		return
	}
	var name string
	switch strings.TrimSpace(f.get("priority")) {
	case "0":
		name = "skip"
	case "1":
		name = "normal"
	case "6", "7":
		name = "high"
	default:
		text(w, http.StatusBadRequest, "Priority is not valid")
		return
	}
	ids := f.list("id", "|")
	if len(ids) == 0 {
		text(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if d.Pieces == 0 && len(d.Files) == 0 {
		text(w, http.StatusConflict, "Torrent's metadata has not yet downloaded")
		return
	}
	prio := make(map[int]string, len(ids))
	for _, s := range ids {
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 || i >= len(d.Files) {
			text(w, http.StatusConflict, "File IDs are not valid")
			return
		}
		prio[i] = name
	}
	if _, err := h.sess.SetFilePriorities(d.InfoHash, prio); err != nil {
		sessionError(w, err)
		return
	}
	answerOK(w)
}

// setShareLimits sets the torrents' ratio and seeding time limits: -2 the
// session's, -1 none (gobit: the session's too, which has none unless
// set), otherwise the ratio and minutes.
func (h *Handler) setShareLimits(w http.ResponseWriter, _ *http.Request, f *form) {
	if !f.has("ratioLimit") || !f.has("seedingTimeLimit") {
		text(w, http.StatusBadRequest, "Bad Request")
		return
	}
	ratio, err := f.float("ratioLimit")
	if err != nil {
		text(w, http.StatusBadRequest, err.Error())
		return
	}
	minutes, err := f.integer("seedingTimeLimit")
	if err != nil {
		text(w, http.StatusBadRequest, err.Error())
		return
	}
	ratio, secs := max(ratio, 0), max(minutes, 0)*60
	h.each(w, f, func(hash string) error {
		_, err := h.sess.UpdateTorrent(hash, session.TorrentUpdate{RatioLimit: &ratio, SeedTimeLimit: &secs})
		return err
	})
}

// queueMove moves the torrents in the queue; for top and down the last
// named moves first, so that the named order is kept.
func (h *Handler) queueMove(m session.QueueMove) func(http.ResponseWriter, *http.Request, *form) {
	return func(w http.ResponseWriter, _ *http.Request, f *form) {
		hs := h.targets(f)
		pos := map[string]int{}
		for _, st := range h.sess.List() {
			pos[st.InfoHash] = st.QueuePosition
		}
		hs = slices.DeleteFunc(hs, func(s string) bool { _, ok := pos[s]; return !ok })
		slices.SortStableFunc(hs, func(a, b string) int { return pos[a] - pos[b] })
		if m == session.QueueTop || m == session.QueueDown {
			slices.Reverse(hs)
		}
		for _, hash := range hs {
			if err := h.sess.MoveInQueue(hash, m); err != nil && !errors.Is(err, session.ErrNotFound) {
				sessionError(w, err)
				return
			}
		}
		answerOK(w)
	}
}

// setTorrentLimit answers torrents/setUploadLimit and setDownloadLimit:
// limit in bytes per second, 0 or less for none.
func (h *Handler) setTorrentLimit(down bool) func(http.ResponseWriter, *http.Request, *form) {
	return func(w http.ResponseWriter, _ *http.Request, f *form) {
		limit, err := f.rateLimit()
		if err != nil {
			text(w, http.StatusBadRequest, err.Error())
			return
		}
		u := session.TorrentUpdate{UploadLimit: &limit}
		if down {
			u = session.TorrentUpdate{DownloadLimit: &limit}
		}
		h.each(w, f, func(hash string) error { _, err := h.sess.UpdateTorrent(hash, u); return err })
	}
}

// torrentLimit answers torrents/uploadLimit and downloadLimit: each named
// torrent's limit in bytes per second, 0 for none.
func (h *Handler) torrentLimit(down bool) func(http.ResponseWriter, *http.Request, *form) {
	return func(w http.ResponseWriter, _ *http.Request, f *form) {
		all, hs := parseHashes(f.get("hashes"))
		out := map[string]int64{}
		for _, st := range h.sess.List() {
			if all || slices.Contains(hs, st.InfoHash) {
				out[st.InfoHash] = st.UploadLimit
				if down {
					out[st.InfoHash] = st.DownloadLimit
				}
			}
		}
		writeJSON(w, out)
	}
}

func (h *Handler) toggleSequential(w http.ResponseWriter, _ *http.Request, f *form) {
	h.each(w, f, func(hash string) error {
		d, err := h.sess.Get(hash)
		if err != nil {
			return err
		}
		v := !d.Sequential
		_, err = h.sess.UpdateTorrent(hash, session.TorrentUpdate{Sequential: &v})
		return err
	})
}

func (h *Handler) toggleFirstLast(w http.ResponseWriter, _ *http.Request, f *form) {
	h.each(w, f, func(hash string) error {
		d, err := h.sess.Get(hash)
		if err != nil {
			return err
		}
		v := !d.FirstLastPieceFirst
		_, err = h.sess.UpdateTorrent(hash, session.TorrentUpdate{FirstLastPieceFirst: &v})
		return err
	})
}
