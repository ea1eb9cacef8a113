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
// The test needs chromium, node and this directory's node_modules:
//
//	apt-get install -y chromium nodejs npm
//	cd test/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci
//
// Without them it is skipped, or fails under CI=true.
package browser
