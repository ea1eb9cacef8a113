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
// Disk jobs run on the DiskPool (postDisk): each copies what it needs from
// the loop's state into locals, and its result comes back as a closure on
// diskC that runs on the loop. API commands arrive the same way on cmdC
// (do).
//
// Lock order: ioMu (held shared by every disk job, exclusively while Move
// moves the files) before writeMu (serializes the torrent's piece writes),
// before the storage's own locks. The loop itself takes neither; the
// ReadCache and DiskPool mutexes are leaves.
package torrent
