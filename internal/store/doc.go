// Package store is gobit's persistent state: the torrents a user added, their
// resume data, transfer totals and settings, kept in one bbolt database
// (normally <data dir>/gobit.db). It holds no torrent logic; the session
// decides what to save and when.
//
// # Ownership and concurrency
//
// A *Store owns its open database file exclusively: bbolt takes an flock on
// it, so a second gobit process (or a second Open in the same process) fails
// with ErrLocked after a short wait. All methods are safe for concurrent use;
// each is one bbolt transaction, so a method either happens completely or not
// at all. Writes are serialized by bbolt; reads run concurrently with them.
//
// # Layout
//
// Top-level buckets:
//
//	meta      schema_version → uint64 (big-endian, 8 bytes)
//	torrents  20-byte info hash → JSON torrentRecord (a Torrent without its totals)
//	stats     20-byte info hash → 16 bytes: uploaded, downloaded (big-endian int64)
//	resume    20-byte info hash → JSON resumeRecord
//	settings  key → JSON value
//	categories (schema 2) category name → JSON categoryRecord (its save path)
//	dht       reserved (created, unused); the session keeps the DHT's node ID
//	          and nodes in settings, under the key "dht"
//
// Records are JSON (encoding/json) with explicit field names decoupled from
// the exported Go types, so renaming a Go field never changes the file
// format, and an old record missing a newer field still decodes. The
// transfer totals live apart from the torrent record in a fixed 16-byte
// value so that PutStats, which the session calls often, does not rewrite
// the .torrent bytes.
//
// # Invariants
//
//   - The schema version in meta equals SchemaVersion after Open returns; a
//     database written by a newer gobit is refused with ErrNewerSchema and
//     left untouched.
//   - stats and resume records exist only for info hashes present in
//     torrents: PutStats and PutResume return ErrNotFound otherwise, and
//     DeleteTorrent removes all three in one transaction.
//   - Every record is validated when decoded (lengths, counts, sizes); a
//     record that fails is reported as ErrCorrupt for that record only and
//     never takes the whole store down.
//
// # Durability and cost
//
// Every write commits a bbolt transaction, which fsyncs the file (bbolt's
// default; kept). That costs one or two fdatasync calls per write — under a
// millisecond on an SSD, 10 ms or more on a spinning disk — so callers should
// batch frequent updates: save totals every few tens of seconds and on
// pause/shutdown, not per block.
//
// # Corrupt files
//
// bbolt memory-maps the file and trusts its page structure: on a damaged
// file it can panic or fault on a bad pointer. Open therefore validates the
// file with plain reads before bbolt maps it (validate.go: both meta pages,
// every reachable page in bounds and referenced once, the freelist disjoint
// from the tree), then runs bbolt's own tx.Check. Both walk the whole file
// once: O(file size), a few milliseconds for the few-megabyte databases
// gobit writes. Each method additionally converts a bbolt panic or memory
// fault into ErrCorrupt instead of crashing the process. OpenOrRecover moves
// an unusable file aside and starts afresh.
package store
