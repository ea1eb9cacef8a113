package qbittorrent

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
)

// etaInfinity is qBittorrent's ETA for "never" (100 days in seconds).
const etaInfinity = 8640000

// torrent is one torrent as torrents/info and sync/maindata show it: a map
// so that sync/maindata can send only the fields that changed and
// torrents/info can sort by any field.
type torrent map[string]any

// view is what building torrent objects needs besides each torrent's
// status.
type view struct {
	now      time.Time
	extras   map[string]session.Extra
	settings session.Settings
	queueing bool
}

// newView reads what the torrent objects need from the session once.
func (h *Handler) newView() view {
	st := h.sess.Settings()
	return view{
		now: h.now(), extras: h.sess.Extras(), settings: st,
		queueing: st.MaxActive > 0 || st.MaxActiveDownloads > 0 || st.MaxActiveSeeds > 0,
	}
}

// complete reports whether a torrent has every piece it wants.
func complete(st session.Status) bool {
	return st.TotalSize > 0 && st.WantedCompleted >= st.WantedSize && st.State != session.StateMetadata
}

// state is qBittorrent's state name for a torrent (the 4.x names).
func state(st session.Status) string {
	done := complete(st)
	upDown := func(up, down string) string {
		if done {
			return up
		}
		return down
	}
	switch st.State {
	case session.StateError:
		return "error"
	case session.StateMetadata:
		if st.Forced {
			return "forcedMetaDL"
		}
		return "metaDL"
	case session.StateChecking:
		return upDown("checkingUP", "checkingDL")
	case session.StatePaused:
		return upDown("pausedUP", "pausedDL")
	case session.StateQueued:
		return upDown("queuedUP", "queuedDL")
	case session.StateSeeding:
		switch {
		case st.Finished:
			return "pausedUP" // a share limit stopped it, as qBittorrent pauses it
		case st.Forced:
			return "forcedUP"
		case st.UploadRate > 0:
			return "uploading"
		}
		return "stalledUP"
	case session.StateDownloading:
		switch {
		case done:
			return "stalledUP"
		case st.Forced:
			return "forcedDL"
		case st.DownloadRate > 0:
			return "downloading"
		}
		return "stalledDL"
	}
	return "unknown"
}

// effective returns a torrent's own limit, else the session's, else -1
// (none), as max_ratio and max_seeding_time report them.
func effective[T int64 | float64](own, global T) T {
	switch {
	case own > 0:
		return own
	case global > 0:
		return global
	}
	return -1
}

// magnetOf builds a torrent's magnet link.
func magnetOf(st session.Status, x session.Extra) string {
	h, err := metainfo.ParseHash(st.InfoHash)
	if err != nil {
		return ""
	}
	m := metainfo.Magnet{InfoHash: h, Name: st.Name}
	for _, tier := range x.Trackers {
		m.Trackers = append(m.Trackers, tier...)
	}
	return m.String()
}

// completedAt is when a torrent completed: the session's record, else,
// for a torrent complete from the start, when it was added; zero while
// incomplete.
func completedAt(st session.Status, x session.Extra) time.Time {
	switch {
	case !complete(st):
		return time.Time{}
	case !x.CompletedAt.IsZero():
		return x.CompletedAt
	}
	return st.AddedAt
}

// clocks returns a torrent's time_active and seeding_time in seconds.
// gobit keeps no such totals: while the torrent runs they are the time
// since it was added and since it completed; while it is stopped they
// stay at the last values seen running (0 when it has not run since the
// daemon started).
func (h *Handler) clocks(st session.Status, completed, now time.Time) (active, seeding int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	running := st.State == session.StateDownloading || st.State == session.StateSeeding && !st.Finished || st.State == session.StateMetadata || st.State == session.StateChecking
	if !running {
		c := h.frozen[st.InfoHash]
		return c[0], c[1]
	}
	active = max(int64(now.Sub(st.AddedAt)/time.Second), 0)
	if !completed.IsZero() {
		seeding = max(int64(now.Sub(completed)/time.Second), 0)
	}
	h.frozen[st.InfoHash] = [2]int64{active, seeding}
	return active, seeding
}

// lastActive records when a torrent moving payload was seen and returns
// the last such time (the time it was added when never).
func (h *Handler) lastActive(st session.Status, now time.Time) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st.DownloadRate > 0 || st.UploadRate > 0 {
		h.active[st.InfoHash] = now
		return now
	}
	if t, ok := h.active[st.InfoHash]; ok {
		return t
	}
	return st.AddedAt
}

// forgetActive drops the activity times of torrents no longer in the
// session.
func (h *Handler) forgetActive(present map[string]bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k := range h.active {
		if !present[k] {
			delete(h.active, k)
		}
	}
	for k := range h.frozen {
		if !present[k] {
			delete(h.frozen, k)
		}
	}
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// torrentObject builds a torrent's qBittorrent info object. Units: bytes,
// bytes per second, Unix seconds, seconds; limits of 0 mean none.
func (h *Handler) torrentObject(st session.Status, v view) torrent {
	x := v.extras[st.InfoHash]
	done := complete(st)
	haveInfo := st.TotalSize > 0 || st.State != session.StateMetadata && st.WantedSize > 0
	eta := int64(etaInfinity)
	if !done && st.ETASeconds > 0 {
		eta = st.ETASeconds
	}
	totalSize := st.TotalSize
	contentPath := ""
	if haveInfo {
		contentPath = st.ContentPath
	} else {
		totalSize = -1
	}
	priority := 0
	if v.queueing && !done {
		priority = st.QueuePosition
	}
	ratioLimit, seedLimit := st.RatioLimit, st.SeedTimeLimit/60
	if ratioLimit <= 0 {
		ratioLimit = -2 // the session's
	}
	if st.SeedTimeLimit <= 0 {
		seedLimit = -2
	}
	maxSeed := effective(st.SeedTimeLimit, v.settings.SeedTimeLimit)
	if maxSeed > 0 {
		maxSeed /= 60
	}
	completedAt := completedAt(st, x)
	active, seeding := h.clocks(st, completedAt, v.now)
	var seenComplete int64
	if done {
		seenComplete = completedAt.Unix()
	}
	tracker, count := "", 0
	for _, tier := range x.Trackers {
		for _, u := range tier {
			if tracker == "" {
				tracker = u
			}
			count++
		}
	}
	left := max(st.WantedSize-st.WantedCompleted, 0)
	tags := strings.Join(st.Tags, ", ")
	return torrent{
		"hash": st.InfoHash, "infohash_v1": st.InfoHash, "infohash_v2": "",
		"name": st.Name, "state": state(st), "progress": st.Progress,
		"size": st.WantedSize, "total_size": totalSize,
		"completed": st.WantedCompleted, "amount_left": left,
		"downloaded": st.Downloaded, "uploaded": st.Uploaded,
		"downloaded_session": st.Downloaded, "uploaded_session": st.Uploaded,
		"dlspeed": st.DownloadRate, "upspeed": st.UploadRate,
		"dl_limit": st.DownloadLimit, "up_limit": st.UploadLimit,
		"eta": eta, "ratio": st.Ratio,
		"num_seeds": st.Seeds, "num_leechs": max(st.Peers-st.Seeds, 0),
		"num_complete": st.Seeds, "num_incomplete": max(st.Peers-st.Seeds, 0),
		"availability": -1, "priority": priority, "force_start": st.Forced,
		"seq_dl": st.Sequential, "f_l_piece_prio": st.FirstLastPieceFirst,
		"super_seeding": false, "auto_tmm": false,
		"category": st.Category, "tags": tags,
		"save_path": st.SaveDir, "content_path": contentPath, "download_path": "",
		"added_on": unix(st.AddedAt), "completion_on": unix(completedAt),
		"last_activity": unix(h.lastActive(st, v.now)), "seen_complete": seenComplete,
		"time_active": active, "seeding_time": seeding,
		"max_ratio": effective(st.RatioLimit, v.settings.RatioLimit), "ratio_limit": ratioLimit,
		"max_seeding_time": maxSeed, "seeding_time_limit": seedLimit,
		"max_inactive_seeding_time": -1, "inactive_seeding_time_limit": -2,
		"tracker": tracker, "trackers_count": count,
		"magnet_uri": magnetOf(st, x), "private": x.Private, "has_metadata": haveInfo,
	}
}

// matchFilter reports whether a torrent in qBittorrent state s with the
// given rates passes a torrents/info status filter. An unknown filter
// passes everything, as in qBittorrent.
func matchFilter(filter, s string, dl, ul int64) bool {
	switch filter {
	case "downloading":
		return slices.Contains([]string{"downloading", "metaDL", "forcedMetaDL", "stalledDL", "checkingDL", "pausedDL", "stoppedDL", "queuedDL", "forcedDL"}, s)
	case "seeding":
		return slices.Contains([]string{"uploading", "stalledUP", "checkingUP", "queuedUP", "forcedUP"}, s)
	case "completed":
		return slices.Contains([]string{"uploading", "stalledUP", "checkingUP", "pausedUP", "stoppedUP", "queuedUP", "forcedUP"}, s)
	case "paused", "stopped":
		return s == "pausedUP" || s == "pausedDL" || s == "stoppedUP" || s == "stoppedDL"
	case "resumed", "running":
		return !matchFilter("paused", s, dl, ul)
	case "active":
		switch s {
		case "stalledDL":
			return ul > 0
		case "metaDL", "forcedMetaDL", "downloading", "forcedDL", "uploading", "forcedUP", "moving":
			return true
		}
		return false
	case "inactive":
		return !matchFilter("active", s, dl, ul)
	case "stalled":
		return s == "stalledUP" || s == "stalledDL"
	case "stalled_uploading":
		return s == "stalledUP"
	case "stalled_downloading":
		return s == "stalledDL"
	case "checking":
		return s == "checkingUP" || s == "checkingDL" || s == "checkingResumeData"
	case "moving":
		return s == "moving"
	case "errored":
		return s == "error" || s == "missingFiles"
	}
	return true
}

// parseHashes reads a "|"-separated hashes parameter: all is set for
// "all"; the hashes are lower-cased.
func parseHashes(v string) (all bool, hashes []string) {
	for _, s := range strings.Split(v, "|") {
		s = strings.ToLower(strings.TrimSpace(s))
		switch s {
		case "":
		case "all":
			all = true
		default:
			hashes = append(hashes, s)
		}
	}
	return all, hashes
}

// info answers torrents/info.
func (h *Handler) info(w http.ResponseWriter, _ *http.Request, f *form) {
	var lf session.ListFilter
	if f.has("category") {
		c := f.get("category")
		lf.Category = &c
	}
	list := h.sess.ListFiltered(lf)
	if f.has("tag") {
		tag := f.get("tag")
		list = slices.DeleteFunc(list, func(st session.Status) bool {
			if tag == "" {
				return len(st.Tags) > 0
			}
			return !slices.Contains(st.Tags, tag)
		})
	}
	if f.has("hashes") {
		all, hs := parseHashes(f.get("hashes"))
		if !all {
			list = slices.DeleteFunc(list, func(st session.Status) bool { return !slices.Contains(hs, st.InfoHash) })
		}
	}
	filter := f.get("filter")
	v := h.newView()
	out := make([]torrent, 0, len(list))
	for _, st := range list {
		if !matchFilter(filter, state(st), st.DownloadRate, st.UploadRate) {
			continue
		}
		if f.has("private") {
			if want := f.boolean("private", false); v.extras[st.InfoHash].Private != want {
				continue
			}
		}
		out = append(out, h.torrentObject(st, v))
	}
	if key := f.get("sort"); key != "" {
		slices.SortStableFunc(out, func(a, b torrent) int { return compareValues(a[key], b[key]) })
	}
	if f.boolean("reverse", false) {
		slices.Reverse(out)
	}
	out = page(out, f)
	writeJSON(w, out)
}

// page applies torrents/info's offset (negative: from the end) and limit
// (0 or less: no limit).
func page[T any](list []T, f *form) []T {
	n := len(list)
	off, _ := strconv.Atoi(strings.TrimSpace(f.get("offset")))
	if off < 0 {
		off += n
	}
	off = min(max(off, 0), n)
	list = list[off:]
	if limit, _ := strconv.Atoi(strings.TrimSpace(f.get("limit"))); limit > 0 && limit < len(list) {
		list = list[:limit]
	}
	return list
}

// compareValues orders two field values: numbers by value, strings without
// regard to case, false before true; an absent field first.
func compareValues(a, b any) int {
	na, aNum := number(a)
	nb, bNum := number(b)
	switch {
	case aNum && bNum:
		return cmp.Compare(na, nb)
	case a == nil || b == nil:
		return cmp.Compare(boolInt(a != nil), boolInt(b != nil))
	}
	sa, _ := a.(string)
	sb, _ := b.(string)
	if c := cmp.Compare(strings.ToLower(sa), strings.ToLower(sb)); c != 0 {
		return c
	}
	return cmp.Compare(sa, sb)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case bool:
		return float64(boolInt(n)), true
	}
	return 0, false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
