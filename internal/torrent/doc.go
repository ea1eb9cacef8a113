// Package torrent runs one torrent: its event loop wires peer connections,
// the piece picker, storage, metadata exchange (BEP 9) and the tracker
// announcer together.
//
// Ownership: every field of Torrent marked "loop-owned" belongs to the
// goroutine running the torrent's loop (*Torrent).loop. An idle torrent
// parks (park.go): its loop exits and the next message starts a new one,
// so there is still one owner at a time, and an idle torrent holds no
// goroutine, ticker or descriptor of its own. Other goroutines (peer readers, dialers,
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
//   - nothing that waits runs on the loop: socket I/O happens in the peer
//     goroutines, file I/O in disk jobs bounded by a DiskPool, dials and
//     announces in goroutines of their own. The loop does hash: each
//     received block that extends its piece's hashed prefix is hashed at
//     once, while it is in the CPU's cache (pieceBuf); the disk job that
//     writes a complete piece hashes what is left first;
//   - piece data in memory (the blocks received into pieces being received,
//     hashed or written, and the blocks requested) stays within the buffer
//     budget: requests stop at it (requestRoom). The budget is bufferBudget
//     plus a few times the peers' summed bandwidth-delay products, with a
//     hard cap (bufferLimit). Each peer's request depth is its own
//     bandwidth-delay product plus a margin: its measured rate times its
//     least request-to-block latency plus latencyMargin (requestDepth),
//     within its reqq and maxQueue.
//
// Disk jobs run on the DiskPool (postDisk). A job is built by a plain
// function (verifyJob, checkJob, syncJob, loadJob, readJob), not a method,
// so it reaches only what the loop copied into its arguments (the storage,
// indexes, hashes) or handed over (a complete piece's buffer); it never
// touches loop-owned state. What it sends back on diskC is a typed value
// (pieceVerified, dataChecked, dataSynced, pieceLoaded, blockRead, and
// filesMoved and filesRenamed from the mover and renamer goroutines) that handleDiskResult passes to
// its handleXxx method on the loop, as handlePeerEvent does for peer
// events. API commands arrive on cmdC as closures run on the loop (do).
//
// Lock order: ioMu, then writeMu, then the storage's own locks (see
// package storage). ioMu is held shared by every disk job (postDisk) and
// exclusively by Move's mover while it closes the storage and moves the
// files, and by RenameFiles' renamer while the storage renames them, so no
// job reads or writes a file being moved or renamed. writeMu, taken
// inside a disk job, serializes the torrent's piece writes. The loop
// itself takes neither, so it never waits on the disk; the ReadCache and
// DiskPool mutexes are leaves, never held while another lock is taken.
package torrent
