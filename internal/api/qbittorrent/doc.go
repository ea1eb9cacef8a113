// Package qbittorrent serves qBittorrent's Web API v2 (the API of
// qBittorrent 4.1 and later) under /api/v2/, so that tools written for
// qBittorrent — Sonarr, Radarr, Lidarr, Prowlarr, autobrr, cross-seed,
// Flood, the @ctrl/qbittorrent library — drive gobit unchanged.
//
// gobit reports itself as qBittorrent v4.6.7 with Web API 2.9.3: clients
// then use the 4.x names (pause/resume, pausedUP/pausedDL, the "paused"
// filter and add option); the 5.0 names (stop/start, stoppedUP/stoppedDL,
// "stopped") are accepted as well.
//
// Authentication works as qBittorrent's: POST auth/login with the form
// fields username and password answers "Ok." and sets the SID cookie
// (random, HttpOnly, SameSite=Strict), or answers "Fails."; every other
// route answers 403 without a valid cookie. With no credentials configured
// every request is allowed, and Options.BypassLocal lets loopback clients
// in without logging in, as qBittorrent's bypass_local_auth does. The
// Host/Origin guard of package api applies before any of this.
//
// The handler keeps no torrent state of its own: every answer is built
// from the session. It keeps only the login sessions, the tags created
// without a torrent (the session's tags exist while a torrent carries
// them), the time each torrent was last seen active, and a few recent
// sync/maindata snapshots for incremental updates — each bounded.
package qbittorrent
