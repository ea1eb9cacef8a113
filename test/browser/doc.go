// Package browser checks, with a real browser, that no web page can drive a
// gobit daemon: a headless Debian chromium, driven by playwright-core from
// npm, opens attacker pages that send every request a page can send to the
// daemon's API (no-cors fetches with each simple Content-Type, HTML form
// posts, preflighted DELETE and PATCH), from another site, from another
// port of the same host, and from a DNS-rebound name; the test then checks
// through the API and on disk that nothing was added, moved, paused or
// deleted, and that the same requests sent the way curl sends them still
// work.
//
// TestWebUI (ui_test.go, driving ui.js) uses the same browser to work the
// web UI (internal/webui) against a real daemon: adding by upload, magnet
// and drag-and-drop, the detail pane, pause, resume, move, remove, session
// limits, the keyboard, escaping of hostile names, an event stream, the
// token prompt of --api-token, and a 2,000-torrent list whose first render
// and scroll it times. With GOBIT_SCREENSHOTS=dir it saves screenshots of
// the main views there (docs/screenshots holds the committed ones).
//
// TestBrowserLive (live_test.go, driving live.js) fakes nothing: chromium
// records a small VP8 WebM from a canvas with MediaRecorder, a seeder daemon
// seeds it and a 1 MiB file, and a leecher daemon gets both by magnet from
// it, rate-limited. The page plays the clip through the leecher's stream
// URL while it downloads (currentTime past 1 s), watches the other row rise
// to 100 % and seeding from the event stream without a reload, filters by a
// category made through the API and sets a file priority in the Files tab,
// which the test reads back from the daemon.
//
// TestWebUIManage (manage_test.go, driving manage.js) fakes nothing either:
// it drops a multi-file .torrent on the page, unticks two files and names a
// save directory that already holds part of the data, then reads the
// skipped files back from the daemon and compares the pieces map the page
// draws with the daemon's bitfield; it creates, renames and deletes
// categories in the category manager, assigns a category and tags to
// selected torrents and filters by them, moves torrents with the queue
// buttons (positions read back from the API), force-starts one, checks the
// free space in the status bar, and on a daemon with --api-token plays a
// WAV file through the play button's stream ticket.
//
// What the tests share lives in harness_test.go (newBrowserRun: the
// programs, a temporary directory and a built gobit; run, runOK and
// runResult: a script with its config and its RESULT line) and
// daemon_test.go (a running "gobit serve" and its API); what the scripts
// share, in harness.js (starting chromium, a page that records its errors,
// the RESULT object and screenshots).
//
// The tests need chromium, node and this directory's node_modules:
//
//	apt-get install -y chromium nodejs npm
//	cd test/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci
//
// Without them it is skipped, or fails under CI=true.
package browser
