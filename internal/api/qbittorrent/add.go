package qbittorrent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/gobit/gobit/internal/session"
)

// maxAddURLs bounds the URLs of one torrents/add.
const maxAddURLs = 100

// addTimeout bounds one torrents/add, .torrent downloads included.
const addTimeout = 90 * time.Second

// addOptions are the parameters of torrents/add that apply to every
// torrent it adds.
type addOptions struct {
	req       session.AddRequest // without URI and Torrent
	limits    session.TorrentUpdate
	hasLimits bool
	urls      []string
	files     [][]byte
}

// parseAdd reads torrents/add's form. It does no I/O: what it returns is
// checked by the session when added. Fields gobit has no use for
// (autoTMM, contentLayout, root_folder, cookie, rename, skip_checking:
// gobit always checks data on disk) are ignored.
func parseAdd(f *form, defaultSave string) (addOptions, error) {
	var o addOptions
	for _, u := range f.list("urls", "\n") {
		if len(o.urls) >= maxAddURLs {
			return o, fmt.Errorf("more than %d URLs", maxAddURLs)
		}
		o.urls = append(o.urls, u)
	}
	for _, ff := range f.files {
		o.files = append(o.files, ff.data)
	}
	if p := strings.TrimSpace(f.get("savepath")); p != "" {
		if !filepath.IsAbs(p) {
			p = filepath.Join(defaultSave, p)
		}
		o.req.DownloadDir = p
	}
	o.req.Category = f.get("category")
	o.req.Tags = tagParam(f)
	o.req.Paused = f.boolean("paused", false) || f.boolean("stopped", false)
	o.req.Sequential = f.boolean("sequentialDownload", false)
	o.req.FirstLastPieceFirst = f.boolean("firstLastPiecePrio", false)
	for _, k := range []struct {
		key string
		dst **int64
	}{{"upLimit", &o.limits.UploadLimit}, {"dlLimit", &o.limits.DownloadLimit}} {
		if strings.TrimSpace(f.get(k.key)) == "" {
			continue
		}
		n, err := f.integer(k.key)
		if err != nil {
			return o, err
		}
		n = max(n, 0)
		*k.dst, o.hasLimits = &n, true
	}
	if strings.TrimSpace(f.get("ratioLimit")) != "" {
		r, err := f.float("ratioLimit")
		if err != nil {
			return o, err
		}
		r = max(r, 0)
		o.limits.RatioLimit, o.hasLimits = &r, true
	}
	if strings.TrimSpace(f.get("seedingTimeLimit")) != "" {
		m, err := f.integer("seedingTimeLimit")
		if err != nil {
			return o, err
		}
		s := max(m, 0) * 60
		o.limits.SeedTimeLimit, o.hasLimits = &s, true
	}
	return o, nil
}

// add answers torrents/add: "Ok." when at least one torrent was added,
// "Fails." otherwise, 415 when a .torrent file is not valid.
func (h *Handler) add(w http.ResponseWriter, r *http.Request, f *form) {
	o, err := parseAdd(f, h.opts.DefaultSavePath)
	if err != nil {
		text(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(o.urls) == 0 && len(o.files) == 0 {
		text(w, http.StatusOK, "Fails.")
		return
	}
	// qBittorrent creates a category named on an add.
	if c := o.req.Category; c != "" && !h.hasCategory(c) {
		if _, err := h.sess.AddCategory(session.Category{Name: c, SavePath: h.categoryPath(c, "")}); err != nil && !errors.Is(err, session.ErrExists) {
			text(w, http.StatusBadRequest, "Incorrect category name")
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), addTimeout)
	defer cancel()
	added, badFile := 0, false
	result := func(req session.AddRequest, st session.Status, err error) {
		if err != nil {
			if req.Torrent != nil && errors.Is(err, session.ErrInvalid) {
				badFile = true
			}
			h.log.Info("qbittorrent api: add failed", "err", err)
			return
		}
		added++
		if o.hasLimits {
			if _, err := h.sess.UpdateTorrent(st.InfoHash, o.limits); err != nil {
				h.log.Warn("qbittorrent api: limits of an added torrent not set", "info_hash", st.InfoHash, "err", err)
			}
		}
	}
	for _, u := range o.urls {
		req := o.req
		req.URI = u
		st, err := h.sess.Add(ctx, req)
		result(req, st, err)
	}
	// The files as one batch: one commit for all (session.AddMany).
	reqs := make([]session.AddRequest, len(o.files))
	for i, b := range o.files {
		reqs[i] = o.req
		reqs[i].Torrent = b
	}
	if len(reqs) > 0 {
		sts, errs := h.sess.AddMany(ctx, reqs)
		for i := range reqs {
			result(reqs[i], sts[i], errs[i])
		}
	}
	switch {
	case badFile && added == 0:
		text(w, http.StatusUnsupportedMediaType, "Torrent file is not valid")
	case added == 0:
		text(w, http.StatusOK, "Fails.")
	default:
		text(w, http.StatusOK, "Ok.")
	}
}
