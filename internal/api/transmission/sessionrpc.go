package transmission

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gobit/gobit/internal/diskio"
	"github.com/gobit/gobit/internal/session"
)

// Protocol versions. The classic form is answered as Transmission 4.0
// (rpc-version 17); the JSON-RPC form as Transmission 4.1 (18), which
// introduced it.
const (
	rpcVersionClassic   = 17
	rpcSemverClassic    = "5.3.0"
	rpcVersionJSONRPC   = 18
	rpcSemverJSONRPC    = "6.0.0"
	rpcVersionMinimum   = 14
	transmissionClassic = "4.0.6"
	transmissionJSONRPC = "4.1.0"
)

// settable are the session-set arguments gobit applies (snake_case); every
// other session-get value is read-only and session-set accepts it only
// unchanged.
var settable = []string{
	"speed_limit_down", "speed_limit_down_enabled", "speed_limit_up", "speed_limit_up_enabled",
	"seed_ratio_limit", "seed_ratio_limited",
	"download_queue_enabled", "download_queue_size", "seed_queue_enabled", "seed_queue_size",
}

// sessionValues returns every session-get value by classic name.
func (h *Handler) sessionValues(r *request) map[string]any {
	st := h.b.Settings()
	h.mu.Lock()
	downKB, upKB, ratio, dq, sq := h.downKB, h.upKB, h.ratio, h.downQueue, h.seedQueue
	h.mu.Unlock()
	if st.DownloadLimit > 0 {
		downKB = st.DownloadLimit / kB
	}
	if st.UploadLimit > 0 {
		upKB = st.UploadLimit / kB
	}
	if st.RatioLimit > 0 {
		ratio = st.RatioLimit
	}
	if st.MaxActiveDownloads > 0 {
		dq = st.MaxActiveDownloads
	}
	if st.MaxActiveSeeds > 0 {
		sq = st.MaxActiveSeeds
	}
	dir := h.b.DownloadDir()
	var free int64 = -1
	if f, _, err := diskio.FreeSpace(dir); err == nil {
		free = int64(min(f, math.MaxInt64))
	}
	global, perTorrent := h.b.PeerLimits()
	dht, lsd := h.b.Discovery()
	rpcVersion, semver, release := rpcVersionClassic, rpcSemverClassic, transmissionClassic
	if r.jsonrpc {
		rpcVersion, semver, release = rpcVersionJSONRPC, rpcSemverJSONRPC, transmissionJSONRPC
	}
	version := release + " (gobit"
	if h.opts.Version != "" {
		version += " " + h.opts.Version
	}
	version += ")"
	return map[string]any{
		"alt-speed-down":                       0,
		"alt-speed-enabled":                    false,
		"alt-speed-time-begin":                 540,
		"alt-speed-time-day":                   127,
		"alt-speed-time-enabled":               false,
		"alt-speed-time-end":                   1020,
		"alt-speed-up":                         0,
		"blocklist-enabled":                    st.Blocklist != "",
		"blocklist-size":                       st.BlocklistSize,
		"blocklist-url":                        st.Blocklist,
		"cache-size-mb":                        session.DefaultReadCacheSize >> 20,
		"config-dir":                           "",
		"default-trackers":                     "",
		"dht-enabled":                          dht,
		"download-dir":                         dir,
		"download-dir-free-space":              free,
		"download-queue-enabled":               st.MaxActiveDownloads > 0,
		"download-queue-size":                  dq,
		"encryption":                           "tolerated",
		"idle-seeding-limit":                   30,
		"idle-seeding-limit-enabled":           false,
		"incomplete-dir":                       "",
		"incomplete-dir-enabled":               false,
		"lpd-enabled":                          lsd,
		"peer-limit-global":                    global,
		"peer-limit-per-torrent":               perTorrent,
		"peer-port":                            h.b.Port(),
		"peer-port-random-on-start":            false,
		"pex-enabled":                          true,
		"port-forwarding-enabled":              false,
		"queue-stalled-enabled":                true,
		"queue-stalled-minutes":                1,
		"rename-partial-files":                 false,
		"rpc-version":                          rpcVersion,
		"rpc-version-minimum":                  rpcVersionMinimum,
		"rpc-version-semver":                   semver,
		"script-torrent-added-enabled":         false,
		"script-torrent-added-filename":        "",
		"script-torrent-done-enabled":          false,
		"script-torrent-done-filename":         "",
		"script-torrent-done-seeding-enabled":  false,
		"script-torrent-done-seeding-filename": "",
		"seed-queue-enabled":                   st.MaxActiveSeeds > 0,
		"seed-queue-size":                      sq,
		"seedRatioLimit":                       ratio,
		"seedRatioLimited":                     st.RatioLimit > 0,
		"session-id":                           h.sessionID,
		"speed-limit-down":                     downKB,
		"speed-limit-down-enabled":             st.DownloadLimit > 0,
		"speed-limit-up":                       upKB,
		"speed-limit-up-enabled":               st.UploadLimit > 0,
		"start-added-torrents":                 true,
		"tcp-enabled":                          true,
		"trash-original-torrent-files":         false,
		"units": map[string]any{
			r.name("speed-units"):  []string{"kB/s", "MB/s", "GB/s", "TB/s"},
			r.name("speed-bytes"):  kB,
			r.name("size-units"):   []string{"kB", "MB", "GB", "TB"},
			r.name("size-bytes"):   kB,
			r.name("memory-units"): []string{"KiB", "MiB", "GiB", "TiB"},
			r.name("memory-bytes"): 1024,
		},
		"utp-enabled": false,
		"version":     version,
	}
}

func (h *Handler) sessionGet(_ context.Context, r *request) (map[string]any, *rpcError) {
	fields, hasFields, err := r.args.strings("fields")
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, f := range fields {
		want[snake(f)] = true
	}
	out := map[string]any{}
	for k, v := range h.sessionValues(r) {
		if hasFields && len(fields) > 0 && !want[snake(k)] {
			continue
		}
		out[r.name(k)] = v
	}
	return out, nil
}

func (h *Handler) sessionSet(_ context.Context, r *request) (map[string]any, *rpcError) {
	a := r.args
	cur := h.sessionValues(r)
	bySnake := make(map[string]string, len(cur))
	for k := range cur {
		bySnake[snake(k)] = k
	}
	// Read-only values may be sent back unchanged (clients send whole
	// settings dialogs); a change gobit cannot make is refused.
	for k, raw := range a {
		legacy, known := bySnake[k]
		if !known || slices.Contains(settable, k) || k == "session_id" || k == "units" ||
			k == "version" || strings.HasPrefix(k, "rpc_version") || k == "blocklist_size" || k == "download_dir_free_space" {
			continue
		}
		if !sameJSON(raw, cur[legacy]) {
			return nil, errorf(codeInvalidParams, "gobit cannot change %s through the Transmission RPC", r.name(legacy))
		}
	}
	st := h.b.Settings()
	var u session.SettingsUpdate
	h.mu.Lock()
	defer h.mu.Unlock()
	downKB, upKB, ratio, dq, sq := h.downKB, h.upKB, h.ratio, h.downQueue, h.seedQueue

	rate := func(limitKey, enabledKey string, current int64, remembered *int64) (*int64, *rpcError) {
		kb, hasKB, err := a.integer(limitKey, 0, math.MaxInt64/kB)
		if err != nil {
			return nil, err
		}
		on, hasOn, err := a.boolean(enabledKey)
		if err != nil {
			return nil, err
		}
		if hasKB {
			*remembered = kb
		}
		enabled := current > 0
		if hasOn {
			enabled = on
		}
		if !hasKB && !hasOn {
			return nil, nil
		}
		v := int64(0)
		if enabled {
			v = *remembered * kB
		}
		return &v, nil
	}
	var e *rpcError
	if u.DownloadLimit, e = rate("speed_limit_down", "speed_limit_down_enabled", st.DownloadLimit, &downKB); e != nil {
		return nil, e
	}
	if u.UploadLimit, e = rate("speed_limit_up", "speed_limit_up_enabled", st.UploadLimit, &upKB); e != nil {
		return nil, e
	}
	if v, ok, err := a.number("seed_ratio_limit"); err != nil {
		return nil, err
	} else if ok {
		if v < 0 {
			return nil, errorf(codeInvalidParams, "seedRatioLimit must not be negative")
		}
		ratio = v
	}
	on, hasOn, err := a.boolean("seed_ratio_limited")
	if err != nil {
		return nil, err
	}
	if hasOn || a.has("seed_ratio_limit") {
		enabled := st.RatioLimit > 0
		if hasOn {
			enabled = on
		}
		v := 0.0
		if enabled {
			v = ratio
		}
		u.RatioLimit = &v
	}
	queue := func(sizeKey, enabledKey string, current int64, remembered *int64) (*int64, *rpcError) {
		n, hasN, err := a.integer(sizeKey, 1, session.MaxQueueLimit)
		if err != nil {
			return nil, err
		}
		on, hasOn, err := a.boolean(enabledKey)
		if err != nil {
			return nil, err
		}
		if hasN {
			*remembered = n
		}
		if !hasN && !hasOn {
			return nil, nil
		}
		enabled := current > 0
		if hasOn {
			enabled = on
		}
		v := int64(0)
		if enabled {
			v = *remembered
		}
		return &v, nil
	}
	if u.MaxActiveDownloads, e = queue("download_queue_size", "download_queue_enabled", st.MaxActiveDownloads, &dq); e != nil {
		return nil, e
	}
	if u.MaxActiveSeeds, e = queue("seed_queue_size", "seed_queue_enabled", st.MaxActiveSeeds, &sq); e != nil {
		return nil, e
	}
	if u != (session.SettingsUpdate{}) {
		if _, err := h.b.UpdateSettings(u); err != nil {
			return nil, sessErr(err)
		}
	}
	h.downKB, h.upKB, h.ratio, h.downQueue, h.seedQueue = downKB, upKB, ratio, dq, sq
	return nil, nil
}

// sameJSON reports whether a request value equals a current value, as
// JSON (5 and 5.0 are the same; 0 and 1 stand for false and true).
func sameJSON(raw json.RawMessage, cur any) bool {
	var got any
	if json.Unmarshal(raw, &got) != nil {
		return false
	}
	if b, ok := cur.(bool); ok {
		if f, isNum := got.(float64); isNum && (f == 0 || f == 1) {
			got = f == 1
		}
		return got == b
	}
	cb, err := json.Marshal(cur)
	if err != nil {
		return false
	}
	var want any
	if json.Unmarshal(cb, &want) != nil {
		return false
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	return string(gb) == string(wb)
}

func (h *Handler) sessionStats(_ context.Context, r *request) (map[string]any, *rpcError) {
	vs, now := h.snapshot()
	var active, paused int
	var down, up, downloaded, uploaded int64
	for _, v := range vs {
		if running(v.st.State) {
			active++
		} else {
			paused++
		}
		down += v.st.DownloadRate
		up += v.st.UploadRate
		downloaded += v.st.Downloaded
		uploaded += v.st.Uploaded
	}
	h.mu.Lock()
	added := h.addedSinceStart
	h.mu.Unlock()
	stats := func() map[string]any {
		return map[string]any{
			r.name("uploadedBytes"):   uploaded,
			r.name("downloadedBytes"): downloaded,
			r.name("filesAdded"):      added,
			r.name("sessionCount"):    1,
			r.name("secondsActive"):   int64(now.Sub(h.started) / time.Second),
		}
	}
	return map[string]any{
		r.name("activeTorrentCount"): active,
		r.name("pausedTorrentCount"): paused,
		r.name("torrentCount"):       len(vs),
		r.name("downloadSpeed"):      down,
		r.name("uploadSpeed"):        up,
		// gobit keeps no totals across restarts: the cumulative stats
		// are those of this run.
		r.name("cumulative-stats"): stats(),
		r.name("current-stats"):    stats(),
	}, nil
}

func (h *Handler) sessionClose(context.Context, *request) (map[string]any, *rpcError) {
	return nil, errorf(codeSystemError, "gobit does not stop on an RPC request; stop the daemon with SIGTERM or Ctrl-C")
}

func (h *Handler) freeSpace(_ context.Context, r *request) (map[string]any, *rpcError) {
	p, ok, err := r.args.str("path")
	if err != nil {
		return nil, err
	}
	if !ok || p == "" {
		return nil, errorf(codeInvalidParams, "directory path argument is missing")
	}
	if !filepath.IsAbs(p) {
		return nil, errorf(codePathNotAbsolute, "directory path is not absolute: %q", truncate(p, 80))
	}
	free, total, ferr := diskio.FreeSpace(p)
	if ferr != nil {
		return nil, errorf(codeSystemError, "%v", ferr)
	}
	return map[string]any{
		r.name("path"):       p,
		r.name("size-bytes"): int64(min(free, math.MaxInt64)),
		"total_size":         int64(min(total, math.MaxInt64)),
	}, nil
}

func (h *Handler) portTest(context.Context, *request) (map[string]any, *rpcError) {
	return nil, errorf(codeSystemError, "gobit cannot test whether its peer port is reachable from the Internet: that needs a service outside this machine, and gobit does not call one")
}

// blocklistReloader is the part of the session blocklist-update uses
// (asserted, so backends without a blocklist need not have it).
type blocklistReloader interface {
	ReloadBlocklist(ctx context.Context) (int, error)
}

// blocklistUpdate reloads the blocklist from the file or URL gobit was
// started with (--blocklist); Transmission's own blocklist-url cannot be
// set through the RPC.
func (h *Handler) blocklistUpdate(ctx context.Context, r *request) (map[string]any, *rpcError) {
	br, ok := h.b.(blocklistReloader)
	if !ok {
		return nil, errorf(codeSystemError, "gobit has no blocklist here")
	}
	n, err := br.ReloadBlocklist(ctx)
	if errors.Is(err, session.ErrNoBlocklist) {
		return nil, errorf(codeSystemError, "gobit has no blocklist: start it with --blocklist FILE|URL")
	}
	if err != nil {
		return nil, errorf(codeSystemError, "blocklist not reloaded: %v", err)
	}
	return map[string]any{r.name("blocklist-size"): n}, nil
}

func (h *Handler) groupGet(_ context.Context, r *request) (map[string]any, *rpcError) {
	return map[string]any{r.name("group"): []any{}}, nil
}

func (h *Handler) groupSet(context.Context, *request) (map[string]any, *rpcError) {
	return nil, errorf(codeSystemError, "gobit has no bandwidth groups")
}
