package qbittorrent

import (
	"encoding/json"
	"net/http"
	"runtime"
	"strconv"

	"github.com/gobit/gobit/internal/diskio"
	"github.com/gobit/gobit/internal/session"
)

// The app/ and transfer/ routes.

func (h *Handler) version(w http.ResponseWriter, _ *http.Request, _ *form) {
	text(w, http.StatusOK, AppVersion)
}

func (h *Handler) webapiVersion(w http.ResponseWriter, _ *http.Request, _ *form) {
	text(w, http.StatusOK, WebAPIVersion)
}

// buildInfo names gobit where qBittorrent names its libraries.
func (h *Handler) buildInfo(w http.ResponseWriter, _ *http.Request, _ *form) {
	bits := 64
	if strconv.IntSize == 32 {
		bits = 32
	}
	writeJSON(w, map[string]any{"qt": "", "libtorrent": "gobit", "boost": "", "openssl": "", "zlib": "",
		"bitness": bits, "go": runtime.Version(), "platform": runtime.GOOS})
}

func (h *Handler) defaultSavePath(w http.ResponseWriter, _ *http.Request, _ *form) {
	text(w, http.StatusOK, h.opts.DefaultSavePath)
}

// orNone reports a limit of 0 (none) as -1, as qBittorrent's preferences
// do for the queue limits.
func orNone(v int64) int64 {
	if v <= 0 {
		return -1
	}
	return v
}

// preferences answers app/preferences: the settings gobit has, and for
// the rest the value that describes what gobit does (no temporary
// directory, no UPnP, no scheduler, no alternative limits).
func (h *Handler) preferences(w http.ResponseWriter, _ *http.Request, _ *form) {
	st := h.sess.Settings()
	queueing := st.MaxActive > 0 || st.MaxActiveDownloads > 0 || st.MaxActiveSeeds > 0
	maxRatio, maxSeed := -1.0, int64(-1)
	if st.RatioLimit > 0 {
		maxRatio = st.RatioLimit
	}
	if st.SeedTimeLimit > 0 {
		maxSeed = st.SeedTimeLimit / 60
	}
	_, dhtOn := h.sess.DHTStats()
	creds := h.opts.Credentials
	writeJSON(w, map[string]any{
		"save_path": h.opts.DefaultSavePath, "temp_path_enabled": false, "temp_path": "",
		"export_dir": "", "export_dir_fin": "", "scan_dirs": map[string]any{},
		"auto_tmm_enabled": false, "torrent_changed_tmm_enabled": false, "save_path_changed_tmm_enabled": false,
		"category_changed_tmm_enabled": false, "use_category_paths_in_manual_mode": true,
		"start_paused_enabled": false, "create_subfolder_enabled": true, "torrent_content_layout": "Original",
		"torrent_stop_condition": "None", "preallocate_all": false, "incomplete_files_ext": false,
		"add_trackers_enabled": false, "add_trackers": "", "excluded_file_names_enabled": false, "excluded_file_names": "",

		"dl_limit": st.DownloadLimit, "up_limit": st.UploadLimit, "alt_dl_limit": 0, "alt_up_limit": 0,
		"scheduler_enabled": false, "limit_lan_peers": true, "limit_tcp_overhead": false, "limit_utp_rate": true,

		"max_ratio_enabled": st.RatioLimit > 0, "max_ratio": maxRatio, "max_ratio_act": 0,
		"max_seeding_time_enabled": st.SeedTimeLimit > 0, "max_seeding_time": maxSeed,
		"max_inactive_seeding_time_enabled": false, "max_inactive_seeding_time": -1,

		"queueing_enabled": queueing, "max_active_downloads": orNone(st.MaxActiveDownloads),
		"max_active_torrents": orNone(st.MaxActive), "max_active_uploads": orNone(st.MaxActiveSeeds),
		"max_active_checking_torrents": 1, "dont_count_slow_torrents": true,

		"listen_port": h.sess.Port(), "random_port": false, "upnp": false, "dht": dhtOn, "pex": true,
		"lsd": h.sess.LSDAddr().IsValid(), "encryption": 0, "anonymous_mode": false, "proxy_type": 0,
		"ip_filter_enabled": false, "bittorrent_protocol": 1, "max_connec": -1, "max_connec_per_torrent": -1,
		"max_uploads": -1, "max_uploads_per_torrent": -1,

		"locale": "en", "refresh_interval": 1500, "web_ui_username": creds.User,
		"bypass_local_auth": h.opts.BypassLocal || !creds.Required(), "bypass_auth_subnet_whitelist_enabled": false,
		"bypass_auth_subnet_whitelist": "", "web_ui_session_timeout": int(sessionTimeout.Seconds()),
		"web_ui_max_auth_fail_count": maxAuthFails, "web_ui_ban_duration": int(banDuration.Seconds()),
		"web_ui_csrf_protection_enabled": true, "web_ui_host_header_validation_enabled": true,
		"autorun_enabled": false, "autorun_program": "", "rss_processing_enabled": false,
		"rss_auto_downloading_enabled": false, "enable_embedded_tracker": false, "mail_notification_enabled": false,
	})
}

// setPreferences answers app/setPreferences: the form field json holds
// the preferences to change. Those gobit has are applied (rate limits,
// share limits, queue limits); the rest are ignored, as qBittorrent
// ignores unknown keys.
func (h *Handler) setPreferences(w http.ResponseWriter, _ *http.Request, f *form) {
	var p map[string]json.RawMessage
	if err := json.Unmarshal([]byte(f.get("json")), &p); err != nil || p == nil {
		text(w, http.StatusBadRequest, "Bad Request")
		return
	}
	cur := h.sess.Settings()
	var u session.SettingsUpdate
	num := func(key string) (float64, bool, bool) { // value, present, valid
		raw, ok := p[key]
		if !ok {
			return 0, false, true
		}
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil {
			return 0, true, false
		}
		return v, true, true
	}
	flag := func(key string) (bool, bool, bool) {
		raw, ok := p[key]
		if !ok {
			return false, false, true
		}
		var v bool
		if err := json.Unmarshal(raw, &v); err != nil {
			return false, true, false
		}
		return v, true, true
	}
	bad := false
	for _, k := range []struct {
		key string
		dst **int64
	}{{"dl_limit", &u.DownloadLimit}, {"up_limit", &u.UploadLimit}} {
		if v, has, valid := num(k.key); !valid {
			bad = true
		} else if has {
			n := max(int64(v), 0)
			*k.dst = &n
		}
	}
	ratio, ratioSet, valid1 := num("max_ratio")
	ratioOn, ratioOnSet, valid2 := flag("max_ratio_enabled")
	if ratioSet || ratioOnSet {
		if !ratioSet {
			ratio = cur.RatioLimit
		}
		if !ratioOnSet {
			ratioOn = cur.RatioLimit > 0 || ratioSet && ratio > 0
		}
		r := 0.0
		if ratioOn {
			r = max(ratio, 0)
		}
		u.RatioLimit = &r
	}
	minutes, seedSet, valid3 := num("max_seeding_time")
	seedOn, seedOnSet, valid4 := flag("max_seeding_time_enabled")
	if seedSet || seedOnSet {
		secs := cur.SeedTimeLimit
		if seedSet {
			secs = max(int64(minutes), 0) * 60
		}
		if !seedOnSet {
			seedOn = cur.SeedTimeLimit > 0 || secs > 0
		}
		if !seedOn {
			secs = 0
		}
		u.SeedTimeLimit = &secs
	}
	queueOn, queueSet, valid5 := flag("queueing_enabled")
	limits := []struct {
		key string
		cur int64
		dst **int64
	}{
		{"max_active_downloads", cur.MaxActiveDownloads, &u.MaxActiveDownloads},
		{"max_active_uploads", cur.MaxActiveSeeds, &u.MaxActiveSeeds},
		{"max_active_torrents", cur.MaxActive, &u.MaxActive},
	}
	anyLimit := false
	vals := make([]int64, len(limits))
	for i, l := range limits {
		vals[i] = l.cur
		if v, has, valid := num(l.key); !valid {
			bad = true
		} else if has {
			vals[i], anyLimit = max(int64(v), 0), true
		}
	}
	if queueSet || anyLimit {
		queueing := cur.MaxActive > 0 || cur.MaxActiveDownloads > 0 || cur.MaxActiveSeeds > 0
		if queueSet {
			queueing = queueOn
		}
		if !queueing {
			vals = []int64{0, 0, 0}
		} else if vals[0] == 0 && vals[1] == 0 && vals[2] == 0 {
			vals = []int64{3, 3, 5} // qBittorrent's defaults
		}
		for i, l := range limits {
			n := vals[i]
			*l.dst = &n
		}
	}
	if bad || !valid1 || !valid2 || !valid3 || !valid4 || !valid5 {
		text(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if _, err := h.sess.UpdateSettings(u); err != nil {
		sessionError(w, err)
		return
	}
	answerOK(w)
}

// serverState is the transfer information of transfer/info and
// sync/maindata's server_state.
func (h *Handler) serverState(list []*session.Status, full bool) map[string]any {
	st := h.sess.Settings()
	var dl, ul, dlData, ulData int64
	peers := 0
	for _, t := range list {
		dl, ul = dl+t.DownloadRate, ul+t.UploadRate
		dlData, ulData = dlData+t.Downloaded, ulData+t.Uploaded
		peers += t.Peers
	}
	nodes := 0
	if ds, ok := h.sess.DHTStats(); ok {
		nodes = ds.Nodes
	}
	conn := "connected"
	if h.sess.Port() <= 0 {
		conn = "disconnected"
	}
	out := map[string]any{
		"dl_info_speed": dl, "dl_info_data": dlData, "up_info_speed": ul, "up_info_data": ulData,
		"dl_rate_limit": st.DownloadLimit, "up_rate_limit": st.UploadLimit,
		"dht_nodes": nodes, "connection_status": conn,
	}
	if full {
		var free uint64
		if f, _, err := diskio.FreeSpace(h.opts.DefaultSavePath); err == nil {
			free = f
		}
		ratio := "-"
		if dlData > 0 {
			ratio = strconv.FormatFloat(float64(ulData)/float64(dlData), 'f', 2, 64)
		}
		out["alltime_dl"], out["alltime_ul"] = dlData, ulData
		out["total_peer_connections"] = peers
		out["queueing"] = st.MaxActive > 0 || st.MaxActiveDownloads > 0 || st.MaxActiveSeeds > 0
		out["use_alt_speed_limits"] = false
		out["refresh_interval"] = 1500
		out["free_space_on_disk"] = free
		out["global_ratio"] = ratio
	}
	return out
}

func (h *Handler) transferInfo(w http.ResponseWriter, _ *http.Request, _ *form) {
	writeJSON(w, h.serverState(h.sess.ListShared(), false))
}

// speedLimitsMode answers 0: gobit has no alternative speed limits.
func (h *Handler) speedLimitsMode(w http.ResponseWriter, _ *http.Request, _ *form) {
	text(w, http.StatusOK, "0")
}

// globalLimit answers transfer/uploadLimit and downloadLimit (bytes per
// second, 0 for none).
func (h *Handler) globalLimit(down bool) func(http.ResponseWriter, *http.Request, *form) {
	return func(w http.ResponseWriter, _ *http.Request, _ *form) {
		st := h.sess.Settings()
		v := st.UploadLimit
		if down {
			v = st.DownloadLimit
		}
		text(w, http.StatusOK, strconv.FormatInt(v, 10))
	}
}

func (h *Handler) setGlobalLimit(down bool) func(http.ResponseWriter, *http.Request, *form) {
	return func(w http.ResponseWriter, _ *http.Request, f *form) {
		limit, err := f.rateLimit()
		if err != nil {
			text(w, http.StatusBadRequest, err.Error())
			return
		}
		u := session.SettingsUpdate{UploadLimit: &limit}
		if down {
			u = session.SettingsUpdate{DownloadLimit: &limit}
		}
		if _, err := h.sess.UpdateSettings(u); err != nil {
			sessionError(w, err)
			return
		}
		answerOK(w)
	}
}
