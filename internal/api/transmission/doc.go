// Package transmission serves Transmission's RPC protocol at
// /transmission/rpc, so that tools written for transmission-daemon
// (transmission-remote, Tremotesf, transmission-remote-gtk, Flood, Sonarr
// and the other *arr apps, the Python and JavaScript client libraries)
// drive gobit unchanged.
//
// Both forms of the protocol are spoken: the classic one of Transmission 3
// and 4.0 (dash-case method names, camelCase and dash-case argument names,
// {"method","arguments","tag"} answered by {"result","arguments","tag"}),
// and the JSON-RPC 2.0 form of Transmission 4.1 (snake_case names,
// {"jsonrpc":"2.0","method","params","id"} answered by {"jsonrpc","result"
// or "error","id"}). Names are matched in any of the three spellings, and
// answers use the spelling of the form the request came in.
//
// Requests pass the X-Transmission-Session-Id handshake (an HTTP 409 that
// carries the id, stable for the life of the process) and, when the daemon
// has credentials, HTTP Basic authentication. Torrents get numeric ids in
// the order this package first sees them; they stay the same for the life
// of the process and are never reused.
//
// torrent-rename-path renames a file or folder of one torrent (path as the
// torrent's files name it, name its new last component) on disk, while the
// torrent runs; renaming the top-level one also renames the torrent, as
// Transmission does.
//
// What gobit does not have is answered as such: port-test, blocklist-update,
// session-close and group-set return an error result that says why; torrent-set refuses tracker edits, and session-set refuses
// a change of a value gobit cannot change (values sent back unchanged, as
// settings dialogs do, are accepted). torrent-set accepts without effect
// the arguments gobit has no notion of (bandwidthPriority, peer-limit,
// honorsSessionLimits, seedIdleLimit, seedIdleMode, group). The package keeps no torrent state of its
// own beyond the ids and what it observes between requests (activity and
// completion times, seconds spent downloading and seeding).
package transmission
