package picker

import (
	"math/rand/v2"
	"slices"

	"github.com/gobit/gobit/internal/bitfield"
	"github.com/gobit/gobit/internal/wire"
)

// PeerID is an opaque per-connection key chosen by the caller. The picker
// only compares PeerIDs for equality.
type PeerID = int

// Block is one request: Length bytes at offset Begin of piece Piece. Begin is
// a multiple of wire.BlockSize (the protocol's block size, owned by the
// lower package) and Length is wire.BlockSize except for the last block of
// the last piece.
type Block struct {
	Piece         int
	Begin, Length int
}

// defaultPartialBase and defaultPartialPerPeer make the default soft limit on
// partial pieces: base + perPeer × peers.
const (
	defaultPartialBase    = 64
	defaultPartialPerPeer = 2
)

// Picker chooses blocks to request. See the package documentation for the
// invariants it keeps. The zero value is not usable; call New.
type Picker struct {
	numPieces   int
	pieceLength int64
	lastLength  int64
	rng         *rand.Rand

	have      *bitfield.Bitfield
	haveCount int
	// wantedMissing counts pieces we do not have whose priority is above 0.
	wantedMissing int

	prio  []int32 // per piece
	avail []int32 // per piece, excluding seeds
	pos   []int32 // per piece: index in its level's slice, or -1
	// seeds counts peers announced with a full bitfield; it is added to
	// every piece's availability. It may go negative if a peer that became
	// complete through HAVEs leaves with its full bitfield; the sum stays
	// right.
	seeds         int
	bitfieldPeers int

	levels    []*level // untouched wanted pieces, highest priority first
	untouched int      // pieces in all levels

	partialOf []*partialPiece // per piece; nil unless partial
	partials  []*partialPiece // oldest first
	gen       uint32          // marks for de-duplication during a pick
	mine      []*partialPiece // PickInto's scratch, kept to allocate nothing

	peers      map[PeerID]*peerState
	maxPartial int // 0 = default
	nReqs      int // outstanding requests of all peers together
	// sequential chooses new pieces in index order (see SetSequential).
	sequential bool

	// crit holds the time-critical pieces, earliest deadline first (see
	// deadline.go), and now is the clock they are compared with.
	crit    []critical
	now     int64
	dupLead int64
}

// peerState holds the outstanding requests to one peer.
type peerState struct {
	reqs []Block
	// delay is how long a block requested now takes to arrive (see
	// SetPeerDelay); 0 when unknown.
	delay int64
}

// New returns a picker for a torrent of numPieces pieces of pieceLength bytes
// each, totalLength bytes in all (so the last piece may be shorter). Every
// piece starts untouched with priority 1 and availability 0. rng (from
// math/rand/v2) breaks ties between equally rare pieces; nil means a randomly
// seeded generator, tests pass a fixed seed for a reproducible order.
// Inconsistent sizes are clamped: a non-positive pieceLength becomes
// wire.BlockSize and a last piece length outside (0, pieceLength] becomes
// pieceLength.
func New(numPieces int, pieceLength int64, totalLength int64, rng *rand.Rand) *Picker {
	if numPieces < 0 {
		numPieces = 0
	}
	if pieceLength <= 0 {
		pieceLength = wire.BlockSize
	}
	if rng == nil {
		rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	last := totalLength - int64(numPieces-1)*pieceLength
	if last <= 0 || last > pieceLength {
		last = pieceLength
	}
	p := &Picker{
		numPieces:     numPieces,
		pieceLength:   pieceLength,
		lastLength:    last,
		rng:           rng,
		have:          bitfield.New(numPieces),
		wantedMissing: numPieces,
		prio:          make([]int32, numPieces),
		avail:         make([]int32, numPieces),
		pos:           make([]int32, numPieces),
		partialOf:     make([]*partialPiece, numPieces),
		peers:         make(map[PeerID]*peerState),
	}
	if numPieces == 0 {
		return p
	}
	l := &level{prio: 1, pieces: make([]int32, numPieces), start: []int32{0, int32(numPieces)}}
	for i := range l.pieces {
		l.pieces[i] = int32(i)
		p.prio[i] = 1
	}
	rng.Shuffle(numPieces, func(i, j int) { l.pieces[i], l.pieces[j] = l.pieces[j], l.pieces[i] })
	for i, pc := range l.pieces {
		p.pos[pc] = int32(i)
	}
	p.levels = []*level{l}
	p.untouched = numPieces
	return p
}

// NumPieces returns the number of pieces of the torrent.
func (p *Picker) NumPieces() int { return p.numPieces }

// PieceLength returns the length in bytes of the given piece, or 0 for an
// index out of range.
func (p *Picker) PieceLength(piece int) int64 {
	switch {
	case piece < 0 || piece >= p.numPieces:
		return 0
	case piece == p.numPieces-1:
		return p.lastLength
	default:
		return p.pieceLength
	}
}

// numBlocks returns how many blocks the piece has.
func (p *Picker) numBlocks(piece int) int {
	return int((p.PieceLength(piece) + wire.BlockSize - 1) / wire.BlockSize)
}

// blockAt returns block idx of the piece.
func (p *Picker) blockAt(piece, idx int) Block {
	begin := int64(idx) * wire.BlockSize
	n := p.PieceLength(piece) - begin
	if n > wire.BlockSize {
		n = wire.BlockSize
	}
	return Block{Piece: piece, Begin: int(begin), Length: int(n)}
}

// blockIndex validates b against the torrent's geometry and returns its
// index within its piece.
func (p *Picker) blockIndex(b Block) (int, bool) {
	if b.Piece < 0 || b.Piece >= p.numPieces || b.Begin < 0 || b.Begin%wire.BlockSize != 0 {
		return 0, false
	}
	idx := b.Begin / wire.BlockSize
	if idx >= p.numBlocks(b.Piece) || p.blockAt(b.Piece, idx).Length != b.Length {
		return 0, false
	}
	return idx, true
}

// Have reports whether we have the piece (SetHave was called for it).
func (p *Picker) Have(piece int) bool { return p.have.Has(piece) }

// HaveBitfield returns a copy of the set of pieces we have.
func (p *Picker) HaveBitfield() *bitfield.Bitfield { return p.have.Clone() }

// SetHave records that the piece is verified: it is never picked again. Any
// request still outstanding for it is forgotten. Indexes out of range are
// ignored.
func (p *Picker) SetHave(piece int) {
	if piece < 0 || piece >= p.numPieces || p.have.Has(piece) {
		return
	}
	if pp := p.partialOf[piece]; pp != nil {
		p.releaseAll(pp)
		p.dropPartial(pp)
	} else if p.pos[piece] >= 0 && p.prio[piece] > 0 {
		p.removeUntouched(piece)
	}
	p.removeCritical(piece)
	p.have.Set(piece)
	p.haveCount++
	if p.prio[piece] > 0 {
		p.wantedMissing--
	}
}

// HaveCount returns the number of pieces we have.
func (p *Picker) HaveCount() int { return p.haveCount }

// Done reports whether we have every piece whose priority is above 0.
func (p *Picker) Done() bool { return p.wantedMissing == 0 }

// Missing returns the number of pieces we want (priority above 0) and do not
// have.
func (p *Picker) Missing() int { return p.wantedMissing }

// Partial returns the number of partial pieces.
func (p *Picker) Partial() int { return len(p.partials) }

// Priority returns the piece's priority (0 for an index out of range).
func (p *Picker) Priority(piece int) int {
	if piece < 0 || piece >= p.numPieces {
		return 0
	}
	return int(p.prio[piece])
}

// SetPriority sets the piece's priority: 0 means do not download it, 1 is
// normal (the default) and higher values are picked first. Negative values
// count as 0. A partial piece keeps its outstanding requests and received
// blocks, but no new block of it is picked while its priority is 0.
func (p *Picker) SetPriority(piece int, prio int) {
	if piece < 0 || piece >= p.numPieces {
		return
	}
	if prio < 0 {
		prio = 0
	}
	if prio > 1<<30 {
		prio = 1 << 30
	}
	old := int(p.prio[piece])
	if old == prio {
		return
	}
	if p.have.Has(piece) {
		p.prio[piece] = int32(prio)
		return
	}
	switch {
	case old > 0 && prio == 0:
		p.wantedMissing--
	case old == 0 && prio > 0:
		p.wantedMissing++
	}
	if p.partialOf[piece] != nil {
		p.prio[piece] = int32(prio)
		return
	}
	if old > 0 {
		p.removeUntouched(piece)
	}
	p.prio[piece] = int32(prio)
	if prio > 0 {
		p.insertUntouched(piece)
	}
}

// SetMaxPartial sets the soft limit on partial pieces. Above it, a pick
// prefers continuing partial pieces over starting new ones. n <= 0 restores
// the default of 64 + 2 × the number of peers.
func (p *Picker) SetMaxPartial(n int) {
	if n < 0 {
		n = 0
	}
	p.maxPartial = n
}

// partialLimit returns the current soft limit on partial pieces.
func (p *Picker) partialLimit() int {
	if p.maxPartial > 0 {
		return p.maxPartial
	}
	peers := max(p.bitfieldPeers, len(p.peers))
	return defaultPartialBase + defaultPartialPerPeer*peers
}

// PeerRequests returns a copy of the outstanding requests to the peer, in the
// order they were picked.
func (p *Picker) PeerRequests(peer PeerID) []Block {
	ps := p.peers[peer]
	if ps == nil || len(ps.reqs) == 0 {
		return nil
	}
	return append([]Block(nil), ps.reqs...)
}

// Requested reports whether block b is currently requested from the peer.
// It costs O(requesters of b), not O(requests of the peer).
func (p *Picker) Requested(peer PeerID, b Block) bool {
	idx, ok := p.blockIndex(b)
	if !ok {
		return false
	}
	pp := p.partialOf[b.Piece]
	if pp == nil {
		return false
	}
	return slices.Contains(pp.blocks[idx].reqs, peer)
}

// NumRequests returns how many blocks are requested from the peer.
func (p *Picker) NumRequests(peer PeerID) int {
	if ps := p.peers[peer]; ps != nil {
		return len(ps.reqs)
	}
	return 0
}

// Requests returns the number of outstanding requests to all peers
// together (a block requested from two peers counts twice).
func (p *Picker) Requests() int { return p.nReqs }
