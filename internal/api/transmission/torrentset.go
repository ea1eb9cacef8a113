package transmission

import (
	"context"
	"errors"
	"math"
	"path/filepath"

	"github.com/gobit/gobit/internal/session"
)

// Transmission's seed ratio modes (tr_ratiolimit).
const (
	ratioGlobal    = 0
	ratioSingle    = 1
	ratioUnlimited = 2
)

// ignoredTorrentSet are torrent-set arguments gobit accepts without effect:
// it has no bandwidth priorities or groups, no per-torrent peer limit, no
// idle seeding limit, and every torrent honours the session's limits.
var ignoredTorrentSet = []string{"bandwidth_priority", "peer_limit", "honors_session_limits", "seed_idle_limit", "seed_idle_mode", "group"}

// refusedTorrentSet are torrent-set arguments gobit cannot apply: it does
// not edit a torrent's trackers.
var refusedTorrentSet = []string{"tracker_add", "tracker_remove", "tracker_replace", "tracker_list"}

// limitArg reads a speed limit (kB/s) and its switch into a byte rate:
// nil when neither is given.
func limitArg(a args, limitKey, enabledKey string, current int64) (*int64, *rpcError) {
	kb, hasKB, err := a.integer(limitKey, 0, math.MaxInt64/kB)
	if err != nil {
		return nil, err
	}
	on, hasOn, err := a.boolean(enabledKey)
	if err != nil {
		return nil, err
	}
	switch {
	case hasOn && !on:
		zero := int64(0)
		return &zero, nil
	case hasKB && (on || current > 0 || !hasOn):
		v := kb * kB
		return &v, nil
	}
	return nil, nil
}

func (h *Handler) torrentSet(_ context.Context, r *request) (map[string]any, *rpcError) {
	a := r.args
	for _, k := range refusedTorrentSet {
		if a.has(k) {
			return nil, errorf(codeInvalidParams, "gobit cannot change a torrent's trackers (%s)", r.name(k))
		}
	}
	for _, k := range ignoredTorrentSet {
		if a.has(k) {
			h.log.Debug("transmission rpc: torrent-set argument without effect in gobit", "argument", k)
		}
	}
	vs, _, _, err := h.selected(r)
	if err != nil {
		return nil, err
	}
	labels, hasLabels, err := a.strings("labels")
	if err != nil {
		return nil, err
	}
	seq, hasSeq, err := a.boolean("sequential_download")
	if err != nil {
		return nil, err
	}
	ratio, hasRatio, err := a.number("seed_ratio_limit")
	if err != nil {
		return nil, err
	}
	if hasRatio && ratio < 0 {
		return nil, errorf(codeInvalidParams, "seedRatioLimit must not be negative")
	}
	mode, hasMode, err := a.integer("seed_ratio_mode", 0, 2)
	if err != nil {
		return nil, err
	}
	loc, hasLoc, err := a.str("location")
	if err != nil {
		return nil, err
	}
	if hasLoc && !filepath.IsAbs(loc) {
		return nil, errorf(codePathNotAbsolute, "new location path is not absolute: %q", truncate(loc, 80))
	}
	qpos, hasQ, err := a.integer("queue_position", 0, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	files := a.has("files_wanted") || a.has("files_unwanted") || a.has("priority_high") || a.has("priority_low") || a.has("priority_normal")
	if hasMode && mode == ratioUnlimited && h.b.Settings().RatioLimit > 0 {
		return nil, errorf(codeInvalidParams, "gobit cannot exempt one torrent from the session's ratio limit (seedRatioMode 2)")
	}

	for _, v := range vs {
		var u session.TorrentUpdate
		down, err := limitArg(a, "download_limit", "download_limited", v.st.DownloadLimit)
		if err != nil {
			return nil, err
		}
		up, err := limitArg(a, "upload_limit", "upload_limited", v.st.UploadLimit)
		if err != nil {
			return nil, err
		}
		u.DownloadLimit, u.UploadLimit = down, up
		changed := down != nil || up != nil || hasLabels || hasSeq
		if hasLabels {
			tags := append([]string{}, labels...)
			u.Tags = &tags
		}
		if hasSeq {
			u.Sequential = &seq
		}
		switch {
		case hasMode && mode == ratioSingle && hasRatio:
			u.RatioLimit = &ratio
		case hasMode && mode != ratioSingle:
			zero := 0.0
			u.RatioLimit = &zero
		case !hasMode && hasRatio && v.st.RatioLimit > 0:
			u.RatioLimit = &ratio
		}
		if changed || u.RatioLimit != nil {
			if _, e := h.b.UpdateTorrent(v.st.InfoHash, u); e != nil {
				return nil, sessErr(e)
			}
		}
		if files {
			d, e := h.b.Get(v.st.InfoHash)
			if e != nil {
				return nil, sessErr(e)
			}
			if len(d.Files) == 0 {
				return nil, errorf(codeInvalidParams, "the files of %s are not known yet (no metadata)", v.st.InfoHash)
			}
			prio, perr := filePriorities(a, len(d.Files), func(i int) string {
				if i < len(d.Files) {
					return d.Files[i].Priority
				}
				return ""
			})
			if perr != nil {
				return nil, perr
			}
			if len(prio) > 0 {
				if _, e := h.b.SetFilePriorities(v.st.InfoHash, prio); e != nil {
					return nil, sessErr(e)
				}
			}
		}
		if hasLoc {
			if e := h.b.SetLocation(v.st.InfoHash, loc); e != nil {
				return nil, sessErr(e)
			}
		}
		if hasQ {
			if e := h.setQueuePosition(v.st.InfoHash, int(qpos)); e != nil {
				return nil, sessErr(e)
			}
		}
	}
	return nil, nil
}

// setQueuePosition moves a torrent to a 0-based queue position with the
// session's one-step moves.
func (h *Handler) setQueuePosition(hash string, want int) error {
	list := h.b.List()
	cur := -1
	for _, st := range list {
		if st.InfoHash == hash {
			cur = st.QueuePosition - 1
		}
	}
	if cur < 0 {
		return session.ErrNotFound
	}
	switch {
	case want <= 0:
		return h.b.MoveInQueue(hash, session.QueueTop)
	case want >= len(list)-1:
		return h.b.MoveInQueue(hash, session.QueueBottom)
	}
	step, n := session.QueueDown, want-cur
	if n < 0 {
		step, n = session.QueueUp, -n
	}
	for range n {
		if err := h.b.MoveInQueue(hash, step); err != nil {
			if errors.Is(err, session.ErrNotFound) {
				return nil
			}
			return err
		}
	}
	return nil
}
