// Package torrent runs one torrent: its event loop wires peer connections,
// the piece picker, storage, metadata exchange (BEP 9) and the tracker
// announcer together.
//
// Ownership: every field of Torrent marked "loop-owned" belongs to the
// goroutine running (*Torrent).run; other goroutines (peer readers, dialers,
// disk workers, the announcer, API callers) talk to it only through its
// channels: peer events, new connections, dial results, peer addresses, disk
// results and commands. Status is published as an immutable Stats value
// through an atomic pointer after every tick and state change, so readers
// never wait on the loop.
//
// Invariants kept by the loop:
//   - a piece is exactly one of: have (verified, in have and the picker),
//     verifying (all blocks in memory, a disk job hashing/writing it),
//     partial (some blocks in memory in pieces[i]), untouched;
//   - every request sent to a peer is recorded in the picker until the block
//     arrives, is rejected, or the request is cancelled;
//   - nothing slow runs on the loop: socket I/O happens in the peer
//     goroutines, hashing and file I/O in disk jobs bounded by a DiskPool.
package torrent
