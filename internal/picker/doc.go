// Package picker decides which blocks gobit requests from which peer: it
// tracks piece availability across the swarm, our own pieces, the blocks of
// partially downloaded pieces and every outstanding request.
//
// # Ownership
//
// A Picker is a pure data structure with no I/O, no goroutines and no locks.
// It belongs to one torrent's event loop, the only goroutine that may call
// its methods.
//
// # Invariants
//
// A piece is exactly one of:
//   - have: verified (SetHave); never picked again and costs nothing;
//   - partial: at least one block is requested or received; it owns a small
//     per-block record (requesters, sender, received flag);
//   - untouched: no block requested or received; it costs only its place in
//     the bucket slice of its priority level (and nothing at all while its
//     priority is 0).
//
// A block of a partial piece is exactly one of:
//   - missing: not received and requested by nobody;
//   - requested: not received and requested by one or more peers (more than
//     one only in endgame);
//   - received: its data arrived; nobody has it requested any more.
//
// Every request is recorded twice, in the block's requester list and in the
// requesting peer's request list, and the two always agree. A piece that
// falls back to no requested and no received block (Cancel, RemovePeer,
// PieceFailed) becomes untouched again.
//
// # Ordering
//
// Untouched pieces with a priority above zero live in one slice per priority
// level, grouped into buckets by availability (bucket k holds the pieces k
// peers announced), with the start index of each bucket recorded. A HAVE or a
// departing peer moves a piece to the neighbouring bucket with one swap and
// one boundary change, so availability changes cost O(1) and no pick ever
// sorts the pieces. Peers that have every piece (a full bitfield, HaveAll)
// only bump a counter added to every piece's availability, since they do not
// change the order. A pick walks the levels from the highest priority and the
// buckets from the rarest, starting each bucket at a random offset, which
// breaks ties between equally rare pieces at random. When the peer has few
// pieces, a pick walks the peer's bitfield instead of the buckets.
//
// Picking order: blocks of time-critical pieces (SetDeadline, as libtorrent's
// piece deadlines for streaming), earliest deadline first, whatever their
// priority and the limit on partial pieces, except those due before a slow
// peer (SetPeerDelay) could deliver them; once a deadline has come or is
// near (SetNow, SetDuplicateLead), their blocks already requested are
// requested from a few more peers, as in endgame. Then blocks of partial
// pieces the same peer is already working on, then blocks of the other
// partial pieces (oldest first), then new pieces, rarest first within the
// highest priority. Once more partial pieces exist
// than the soft limit (SetMaxPartial), a pick starts a new piece only when it
// found nothing in the partial pieces, and then at most one. When no block
// anywhere is missing (Endgame), picks return blocks already requested from
// other peers, those with the fewest requesters first.
package picker
