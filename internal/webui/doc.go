// Package webui is gobit's web interface: static HTML, CSS and JavaScript
// (plain ES modules, no build step) embedded in the binary with go:embed.
//
// Handler serves index.html at "/" and the other files under "/ui/". The
// files hold no data: the page's scripts fetch everything from the HTTP API
// (internal/api) with the user's token, which the page asks for when the API
// answers 401 and keeps in sessionStorage. The API's handler mounts Handler
// behind the same Host and Origin guard as its own routes, and lets the
// static files through without the token.
//
// Every answer carries a strict Content-Security-Policy (scripts, styles and
// connections from the page's own origin only, no inline scripts, no
// framing), X-Content-Type-Options: nosniff, X-Frame-Options: DENY and
// Referrer-Policy: no-referrer. The scripts build the DOM with textContent,
// never with innerHTML, so names, paths and messages that come from the
// network cannot inject markup.
//
// A <video> cannot send the token, so with a token set the Files tab's play
// buttons ask for a stream ticket (POST …/stream-ticket) and play the URL it
// gives, which works for that one file only and expires (internal/api,
// ticket.go). organize.js holds the category manager, the tags dialog and
// the queue buttons, shown when the daemon has categories.
//
// The page follows GET /api/v1/events (server-sent events) when the daemon
// has it, and otherwise polls GET /api/v1/torrents every two seconds.
package webui
