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

// torrent is one torrent as torrents/info and sync/maindata show it: its
// fields' values by index (the f constants), in the order of their names
// (torrentKeys), so that sync/maindata can send only the fields that
// changed, torrents/info can sort by any field, and both encode a list of
// 10,000 without a map or a boxed value per field (encode.go). A field
// whose value is of kind none is left out.
type torrent [numFields]value

// The fields of a torrent object, in the order of their names.
const (
	fAddedOn = iota
	fAmountLeft
	fAutoTmm
	fAvailability
	fCategory
	fCompleted
	fCompletionOn
	fContentPath
	fDlLimit
	fDlspeed
	fDownloadPath
	fDownloaded
	fDownloadedSession
	fEta
	fFLPiecePrio
	fForceStart
	fHasMetadata
	fHash
	fInactiveSeedingTimeLimit
	fInfohashV1
	fInfohashV2
	fLastActivity
	fMagnetUri
	fMaxInactiveSeedingTime
	fMaxRatio
	fMaxSeedingTime
	fName
	fNumComplete
	fNumIncomplete
	fNumLeechs
	fNumSeeds
	fPriority
	fPrivate
	fProgress
	fRatio
	fRatioLimit
	fSavePath
	fSeedingTime
	fSeedingTimeLimit
	fSeenComplete
	fSeqDl
	fSize
	fState
	fSuperSeeding
	fTags
	fTimeActive
	fTotalSize
	fTracker
	fTrackersCount
	fUpLimit
	fUploaded
	fUploadedSession
	fUpspeed
	numFields
)

// torrentKeys are the fields' names, by index.
var torrentKeys = [numFields]string{"added_on", "amount_left", "auto_tmm", "availability", "category", "completed", "completion_on", "content_path", "dl_limit", "dlspeed", "download_path", "downloaded", "downloaded_session", "eta", "f_l_piece_prio", "force_start", "has_metadata", "hash", "inactive_seeding_time_limit", "infohash_v1", "infohash_v2", "last_activity", "magnet_uri", "max_inactive_seeding_time", "max_ratio", "max_seeding_time", "name", "num_complete", "num_incomplete", "num_leechs", "num_seeds", "priority", "private", "progress", "ratio", "ratio_limit", "save_path", "seeding_time", "seeding_time_limit", "seen_complete", "seq_dl", "size", "state", "super_seeding", "tags", "time_active", "total_size", "tracker", "trackers_count", "up_limit", "uploaded", "uploaded_session", "upspeed"}

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
		fAddedOn:                  val(unix(st.AddedAt)),
		fAmountLeft:               val(left),
		fAutoTmm:                  val(false),
		fAvailability:             val(-1),
		fCategory:                 val(st.Category),
		fCompleted:                val(st.WantedCompleted),
		fCompletionOn:             val(unix(completedAt)),
		fContentPath:              val(contentPath),
		fDlLimit:                  val(st.DownloadLimit),
		fDlspeed:                  val(st.DownloadRate),
		fDownloadPath:             val(""),
		fDownloaded:               val(st.Downloaded),
		fDownloadedSession:        val(st.Downloaded),
		fEta:                      val(eta),
		fFLPiecePrio:              val(st.FirstLastPieceFirst),
		fForceStart:               val(st.Forced),
		fHasMetadata:              val(haveInfo),
		fHash:                     val(st.InfoHash),
		fInactiveSeedingTimeLimit: val(-2),
		fInfohashV1:               val(st.InfoHash),
		fInfohashV2:               val(""),
		fLastActivity:             val(unix(h.lastActive(st, v.now))),
		fMagnetUri:                val(magnetOf(st, x)),
		fMaxInactiveSeedingTime:   val(-1),
		fMaxRatio:                 val(effective(st.RatioLimit, v.settings.RatioLimit)),
		fMaxSeedingTime:           val(maxSeed),
		fName:                     val(st.Name),
		fNumComplete:              val(st.Seeds),
		fNumIncomplete:            val(max(st.Peers-st.Seeds, 0)),
		fNumLeechs:                val(max(st.Peers-st.Seeds, 0)),
		fNumSeeds:                 val(st.Seeds),
		fPriority:                 val(priority),
		fPrivate:                  val(x.Private),
		fProgress:                 val(st.Progress),
		fRatio:                    val(st.Ratio),
		fRatioLimit:               val(ratioLimit),
		fSavePath:                 val(st.SaveDir),
		fSeedingTime:              val(seeding),
		fSeedingTimeLimit:         val(seedLimit),
		fSeenComplete:             val(seenComplete),
		fSeqDl:                    val(st.Sequential),
		fSize:                     val(st.WantedSize),
		fState:                    val(state(st)),
		fSuperSeeding:             val(false),
		fTags:                     val(tags),
		fTimeActive:               val(active),
		fTotalSize:                val(totalSize),
		fTracker:                  val(tracker),
		fTrackersCount:            val(count),
		fUpLimit:                  val(st.UploadLimit),
		fUploaded:                 val(st.Uploaded),
		fUploadedSession:          val(st.Uploaded),
		fUpspeed:                  val(st.UploadRate),
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
		if i := fieldIndex(key); i >= 0 {
			slices.SortStableFunc(out, func(a, b torrent) int { return compareFields(a[i], b[i]) })
		}
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
