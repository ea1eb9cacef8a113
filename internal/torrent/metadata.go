package torrent

import (
	"crypto/sha1"
	"fmt"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/wire"
)

// Metadata exchange (BEP 9) limits.
const (
	mdRequestTimeout  = 15 * time.Second
	mdPerPeerRequests = 2
)

// metadataFetch assembles a magnet's info dictionary from peers.
type metadataFetch struct {
	size   int
	data   []byte
	pieces []mdPiece
	got    int
}

type mdPiece struct {
	received bool
	from     *peerState
	reqFrom  *peerState
	reqAt    time.Time
}

func newMetadataFetch(size int) *metadataFetch {
	n := (size + wire.MetadataPieceSize - 1) / wire.MetadataPieceSize
	return &metadataFetch{size: size, data: make([]byte, size), pieces: make([]mdPiece, n)}
}

func (md *metadataFetch) pieceLen(i int) int {
	if i == len(md.pieces)-1 {
		return md.size - i*wire.MetadataPieceSize
	}
	return wire.MetadataPieceSize
}

func (md *metadataFetch) peerGone(p *peerState) {
	for i := range md.pieces {
		if md.pieces[i].reqFrom == p {
			md.pieces[i].reqFrom = nil
		}
	}
}

func (t *Torrent) handleExtended(p *peerState, m wire.Message) error {
	if m.ExtendedID == wire.ExtendedHandshakeID {
		h, err := wire.ParseExtendedHandshake(m.Payload)
		if err != nil {
			return err
		}
		p.extM = h.M
		p.reqq = h.Reqq
		p.client = h.V
		if h.Port > 0 && h.Port < 65536 && !p.conn.Outgoing {
			// The peer's listen port: dial this address in the future.
			p.listen = netipFrom(p.conn.Addr, h.Port)
			t.addAddr(p.listen, SourceIncoming)
			if ai := t.addrs[p.listen]; ai != nil {
				ai.connected = true // this connection is to that address
			}
		}
		if t.info == nil && h.MetadataSize > 0 {
			if t.md == nil {
				t.md = newMetadataFetch(h.MetadataSize)
			}
			t.requestMetadata(p)
		}
		return nil
	}
	switch m.ExtendedID {
	case extMetadataID:
		return t.handleMetadataMsg(p, m.Payload)
	case extPexID:
		return t.handlePex(p, m.Payload)
	}
	return nil // extensions we did not announce are ignored
}

// requestMetadata asks the peer for metadata pieces nobody is fetching.
func (t *Torrent) requestMetadata(p *peerState) {
	md := t.md
	id, ok := p.extM[wire.ExtMetadata]
	if md == nil || !ok || id <= 0 || id > 255 || p.mdRejected {
		return
	}
	now := time.Now()
	for i := range md.pieces {
		if p.mdOutstanding >= mdPerPeerRequests {
			return
		}
		pc := &md.pieces[i]
		if pc.received || (pc.reqFrom != nil && now.Sub(pc.reqAt) < mdRequestTimeout) {
			continue
		}
		pc.reqFrom, pc.reqAt = p, now
		p.mdOutstanding++
		msg := wire.MetadataMessage{Type: wire.MetadataRequest, Piece: i}
		p.send(wire.Message{ID: wire.Extended, ExtendedID: uint8(id), Payload: msg.Marshal()})
	}
}

func (t *Torrent) metadataTick(now time.Time) {
	if t.md == nil {
		return
	}
	for _, p := range t.peers {
		p.mdOutstanding = 0
		for i := range t.md.pieces {
			pc := &t.md.pieces[i]
			if pc.reqFrom == p && !pc.received && now.Sub(pc.reqAt) < mdRequestTimeout {
				p.mdOutstanding++
			}
		}
		t.requestMetadata(p)
	}
}

func (t *Torrent) handleMetadataMsg(p *peerState, payload []byte) error {
	msg, err := wire.ParseMetadataMessage(payload)
	if err != nil {
		return err
	}
	switch msg.Type {
	case wire.MetadataRequest:
		t.serveMetadata(p, msg.Piece)
	case wire.MetadataReject:
		p.mdRejected = true
		if t.md != nil && msg.Piece >= 0 && msg.Piece < len(t.md.pieces) && t.md.pieces[msg.Piece].reqFrom == p {
			t.md.pieces[msg.Piece].reqFrom = nil
		}
	case wire.MetadataData:
		return t.handleMetadataData(p, msg)
	}
	return nil
}

func (t *Torrent) serveMetadata(p *peerState, piece int) {
	id, ok := p.extM[wire.ExtMetadata]
	if !ok || id <= 0 || id > 255 {
		return
	}
	n := (len(t.infoBytes) + wire.MetadataPieceSize - 1) / wire.MetadataPieceSize
	var resp wire.MetadataMessage
	if t.infoBytes == nil || piece < 0 || piece >= n {
		resp = wire.MetadataMessage{Type: wire.MetadataReject, Piece: piece}
	} else {
		end := min((piece+1)*wire.MetadataPieceSize, len(t.infoBytes))
		resp = wire.MetadataMessage{Type: wire.MetadataData, Piece: piece, TotalSize: len(t.infoBytes),
			Data: t.infoBytes[piece*wire.MetadataPieceSize : end]}
	}
	p.send(wire.Message{ID: wire.Extended, ExtendedID: uint8(id), Payload: resp.Marshal()})
}

func (t *Torrent) handleMetadataData(p *peerState, msg wire.MetadataMessage) error {
	md := t.md
	if md == nil || t.info != nil {
		return nil // not fetching (any more)
	}
	if msg.TotalSize != md.size {
		return fmt.Errorf("%w: metadata total_size %d, expected %d", errProtocol, msg.TotalSize, md.size)
	}
	if msg.Piece < 0 || msg.Piece >= len(md.pieces) || len(msg.Data) != md.pieceLen(msg.Piece) {
		return fmt.Errorf("%w: metadata piece %d with %d bytes", errProtocol, msg.Piece, len(msg.Data))
	}
	pc := &md.pieces[msg.Piece]
	if pc.reqFrom == p {
		p.mdOutstanding--
	}
	if pc.received {
		return nil
	}
	copy(md.data[msg.Piece*wire.MetadataPieceSize:], msg.Data)
	pc.received, pc.from, pc.reqFrom = true, p, nil
	md.got++
	if md.got < len(md.pieces) {
		t.requestMetadata(p)
		return nil
	}
	if metainfo.Hash(sha1.Sum(md.data)) != t.hash {
		// Someone sent wrong data; we cannot tell who, so drop everyone who
		// contributed and start over.
		t.log.Warn("metadata hash mismatch; refetching")
		for i := range md.pieces {
			if q := md.pieces[i].from; q != nil {
				q.conn.CloseWith(fmt.Errorf("%w: sent metadata that fails the info hash", errProtocol))
			}
		}
		t.md = newMetadataFetch(md.size)
		return nil
	}
	info, err := metainfo.ParseInfo(md.data)
	if err != nil {
		t.fail(fmt.Errorf("metadata from peers is invalid: %w", err))
		return nil
	}
	t.log.Info("metadata received", "name", info.Name, "size", info.TotalLength())
	if t.cfg.OnMetadata != nil {
		t.cfg.OnMetadata(md.data)
	}
	t.setInfo(info, md.data)
	return nil
}
