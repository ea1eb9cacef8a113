package torrent

import (
	"crypto/sha1"
	"fmt"
	"hash"
	"sync"
	"time"

	"github.com/gobit/gobit/internal/peer"
	"github.com/gobit/gobit/internal/picker"
	"github.com/gobit/gobit/internal/wire"
)

// pieceBuf holds the blocks of a partial piece in memory until the piece is
// complete, so hashing needs no re-read and bad data never reaches disk.
//
// The blocks are the buffers the peer readers received them in (from the
// peer package's pool): they are neither joined nor copied, and the piece
// goes to the disk as a vectored write of its blocks, which then return to
// the pool. Between the socket and the disk each byte is copied once, from
// the reader's buffer into its block.
//
// The piece is hashed as its blocks arrive: each block that extends the
// received prefix is hashed right away, while it is still in the CPU's
// cache (measured: hashing whole pieces once complete read them back from
// memory and cost ~0.18 CPU s/GiB more). Blocks that arrive out of order
// wait until the prefix reaches them; whatever is left is hashed when the
// piece is verified. Every byte is hashed once.
type pieceBuf struct {
	blocks [][]byte  // by index; nil while missing
	size   int       // the piece's length
	h      hash.Hash // SHA-1 of the first hashed bytes
	hashed int       // length of the hashed prefix
}

// pieceBufs recycles pieceBufs (their block lists and hash states), one
// per piece downloaded otherwise.
var pieceBufs = sync.Pool{New: func() any { return &pieceBuf{h: sha1.New()} }}

// newPieceBuf returns an empty buffer for a piece of size bytes.
func newPieceBuf(size int) *pieceBuf {
	n := (size + wire.BlockSize - 1) / wire.BlockSize
	pb := pieceBufs.Get().(*pieceBuf)
	if cap(pb.blocks) < n {
		pb.blocks = make([][]byte, n)
	}
	pb.blocks, pb.size, pb.hashed = pb.blocks[:n], size, 0
	pb.h.Reset()
	return pb
}

// add takes the block at begin (the buffer is the piece's from now on)
// and hashes whatever prefix became contiguous. The caller checked that
// the block is one of the piece's, of the right length, not yet received.
func (pb *pieceBuf) add(begin int, block []byte) {
	pb.blocks[begin/wire.BlockSize] = block
	pb.advance()
}

// advance hashes the received blocks that extend the hashed prefix.
func (pb *pieceBuf) advance() {
	for pb.hashed < pb.size {
		b := pb.blocks[pb.hashed/wire.BlockSize]
		if b == nil {
			return
		}
		pb.h.Write(b)
		pb.hashed += len(b)
	}
}

// forget drops the block at begin (its sender was banned): it is missing
// again, and if it was hashed the hash restarts from the still-contiguous
// prefix. It reports whether no block is left.
func (pb *pieceBuf) forget(begin int) (empty bool) {
	k := begin / wire.BlockSize
	peer.PutBlock(pb.blocks[k])
	pb.blocks[k] = nil
	if begin < pb.hashed {
		pb.h.Reset()
		pb.hashed = 0
		pb.advance()
	}
	for _, b := range pb.blocks {
		if b != nil {
			return false
		}
	}
	return true
}

// sum hashes what is left of the complete piece and returns its SHA-1.
func (pb *pieceBuf) sum() (out [sha1.Size]byte) {
	pb.advance()
	pb.h.Sum(out[:0])
	return out
}

// held returns the bytes of the blocks received so far.
func (pb *pieceBuf) held() int64 {
	var n int64
	for _, b := range pb.blocks {
		n += int64(len(b))
	}
	return n
}

// dropPartial releases every partial piece in memory and the bytes they
// held (a recheck or a move starts over). Pieces being verified are the
// disk jobs' and count down when their results come back.
func (t *Torrent) dropPartial() {
	for i, pb := range t.pieces {
		t.heldBytes -= pb.held()
		pb.release()
		delete(t.pieces, i)
	}
}

// release returns the blocks to the peer package's pool and pb itself to
// pieceBufs; pb must not be used afterwards.
func (pb *pieceBuf) release() {
	for i, b := range pb.blocks {
		peer.PutBlock(b)
		pb.blocks[i] = nil
	}
	pieceBufs.Put(pb)
}

func blockOf(index, begin, length uint32) picker.Block {
	return picker.Block{Piece: int(index), Begin: int(begin), Length: int(length)}
}

func (t *Torrent) handlePiece(p *peerState, m wire.Message) error {
	if t.pk == nil {
		return nil // nothing was requested before the info was known
	}
	b := blockOf(m.Index, m.Begin, uint32(len(m.Block)))
	if int(m.Index) >= t.info.NumPieces() {
		return fmt.Errorf("%w: piece %d out of range", errProtocol, m.Index)
	}
	p.lastBlock = time.Now()
	p.latency.received(b, p.lastBlock)
	if p.snubbed {
		p.snubbed = false
		p.maxInflight = initialQueue
	}
	t.downloaded.Add(int64(len(m.Block)))
	t.cfg.Counters.addDownloaded(int64(len(m.Block)))
	fresh, others := t.pk.Received(p.id, b)
	if !fresh {
		peer.PutBlock(m.Block)
	} else {
		pb := t.pieces[b.Piece]
		if pb == nil {
			pb = newPieceBuf(int(t.info.PieceSize(b.Piece)))
			t.pieces[b.Piece] = pb
		}
		pb.add(b.Begin, m.Block) // the piece owns the block now
		t.heldBytes += int64(len(m.Block))
		for _, id := range others {
			if q := t.peerByID(id); q != nil {
				q.send(wire.Message{ID: wire.Cancel, Index: m.Index, Begin: m.Begin, Length: uint32(len(m.Block))})
			}
		}
		if t.pk.PieceComplete(b.Piece) {
			t.verifyPiece(b.Piece)
		}
	}
	t.fillRequests(p)
	return nil
}

func (t *Torrent) peerByID(id int) *peerState { return t.byNum[id] }

// verifyPiece hashes a complete in-memory piece and writes it if good.
func (t *Torrent) verifyPiece(i int) {
	pb := t.pieces[i]
	delete(t.pieces, i)
	t.verifying[i] = true
	t.pendingWrites++
	t.postDisk(verifyJob(t.store, &t.writeMu, i, pb, t.info.PieceHash(i)))
}

// bufferBudget is the base of the budget for the memory of piece data:
// blocks received into pieces not yet written (partial pieces and pieces
// being hashed or written) plus the blocks requested and not yet received
// (which will need room when they arrive). Requests stop at the budget, so
// a slow disk or a slow hash slows the download instead of filling memory,
// and a download's memory depends neither on the torrent's size nor on its
// peer count. The budget grows with the bandwidth-delay product of the
// torrent's peers (bufferLimit): distant fast peers need more in flight.
// Torrents with huge pieces get room for at least three of them.
//
// Each byte counts once: a partial piece counts the blocks received, not
// its whole length. Counting a piece in full from its first request let
// slow peers' partial pieces (a 2 Mbit/s peer takes 4 s per 1 MiB piece)
// take up the whole budget and starve the fast peers.
//
// 12 MiB rather than 8 on loopback: a pause of gobit's thread of a
// millisecond or two (it shares two cores with the seeders) let the
// seeders run dry; with 12 MiB, three A/Bs of whole downloads measured
// wall -5 %, -2 % and -4 % at the same CPU, for 4 MiB more peak RSS
// (24 -> 28 MiB). 5 and 16 MiB measured no better than 8 earlier.
const bufferBudget int64 = 12 << 20

// requestRoom returns how many more blocks may be requested within the
// buffer budget.
func (t *Torrent) requestRoom() int {
	return requestRoom(bufferLimit(t.info.PieceLength, t.bdp), t.heldBytes, t.pk.Requests())
}

// requestRoom returns how many more blocks may be requested within budget
// bytes when held bytes of piece data are in memory and requests blocks
// are requested and not yet received.
func requestRoom(budget, held int64, requests int) int {
	used := held + int64(requests)*wire.BlockSize
	return int((budget - used) / wire.BlockSize)
}

func (t *Torrent) handlePieceVerified(i int, ok bool, err error, stale bool) {
	delete(t.verifying, i)
	t.pendingWrites--
	t.heldBytes -= t.info.PieceSize(i)
	for _, p := range t.peers {
		t.fillRequests(p) // the piece's buffer is free again
	}
	if stale {
		// Written to a storage closed since (the save directory vanished
		// and the torrent was rechecked, or it moved): the piece is not in
		// the current files, so it must not count as had.
		t.log.Debug("result of a closed storage ignored", "piece", i)
		return
	}
	if t.pk == nil || t.have.Has(i) {
		return
	}
	if err != nil {
		// Keep the data safe: stop rather than lose it silently.
		t.pk.PieceFailed(i)
		t.fail(fmt.Errorf("write piece %d: %w", i, err))
		return
	}
	if !ok {
		t.cfg.Counters.hashFailed()
		contributors := t.pk.PieceFailed(i)
		t.log.Warn("piece failed verification", "piece", i, "peers", len(contributors))
		n := strikes(contributors, t.bannedIDs)
		if n == 0 {
			return
		}
		for _, id := range contributors {
			q := t.peerByID(id)
			if q == nil {
				continue
			}
			q.bad += n
			if q.bad >= banThreshold {
				t.ban(q)
			}
		}
		return
	}
	t.markHave(i, true)
	for _, p := range t.peers {
		t.updateInterest(p)
	}
	if t.pieceVerifiedForFiles(i) && !t.have.Full() && t.cfg.OnFileComplete != nil {
		t.cfg.OnFileComplete() // the whole torrent has OnComplete
	}
	t.maybeComplete()
}

// checkSnubbed marks peers that sent nothing for a while despite pending
// requests: their requests go back to the picker for others, and they get
// one request at a time until they deliver.
func (t *Torrent) checkSnubbed(now time.Time) {
	if t.pk == nil {
		return
	}
	for _, p := range t.peers {
		if p.snubbed || t.pk.NumRequests(p.id) == 0 {
			continue
		}
		last := p.lastBlock
		if last.IsZero() {
			last = p.start
		}
		if now.Sub(last) < snubTimeout {
			continue
		}
		t.log.Debug("peer snubbed us", "peer", p.addr, "inflight", t.pk.NumRequests(p.id))
		p.snubbed = true
		p.maxInflight = 1
		for _, b := range t.pk.PeerRequests(p.id) {
			p.send(wire.Message{ID: wire.Cancel, Index: uint32(b.Piece), Begin: uint32(b.Begin), Length: uint32(b.Length)})
		}
		t.pk.RemovePeer(p.id)
		p.latency.clear()
	}
}
