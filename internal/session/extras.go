package session

import (
	"fmt"
	"slices"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
)

// What the compatibility APIs (qBittorrent's Web API, Transmission's RPC)
// show of a torrent beyond its Status: when it completed, its trackers,
// and what its .torrent says (comment, creator, piece hashes).

// Extra is the part of a torrent's saved record that Status leaves out.
type Extra struct {
	// CompletedAt is when the download finished; zero until it has.
	CompletedAt time.Time
	// Trackers are the announce tiers.
	Trackers [][]string
	// Private is the BEP 27 flag of the torrent's info dictionary.
	Private bool
}

// Extras returns the Extra of every torrent by hex info hash.
func (s *Session) Extras() map[string]Extra {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Extra, len(s.torrents))
	for _, e := range s.torrents {
		x := Extra{CompletedAt: e.rec.CompletedAt, Private: e.t.SharedStats().Private}
		for _, tier := range e.rec.Trackers {
			x.Trackers = append(x.Trackers, slices.Clone(tier))
		}
		out[e.hash] = x
	}
	return out
}

// MetaDetail is what a torrent's metainfo says beyond its files.
type MetaDetail struct {
	Comment      string
	CreatedBy    string
	CreationDate time.Time // zero when the .torrent has none
	// PieceHashes are the SHA-1 hashes of the pieces, in order.
	PieceHashes [][20]byte
}

// Meta returns what a torrent's metainfo says of itself. Before the
// metadata of a magnet is known it returns ErrConflict.
func (s *Session) Meta(infoHash string) (MetaDetail, error) {
	e, err := s.lookup(infoHash)
	if err != nil {
		return MetaDetail{}, err
	}
	s.mu.Lock()
	raw, infoBytes := e.rec.Torrent, e.rec.InfoBytes
	s.mu.Unlock()
	var md MetaDetail
	var info *metainfo.Info
	switch {
	case raw != nil:
		mi, err := metainfo.Parse(raw)
		if err != nil {
			return MetaDetail{}, fmt.Errorf("reading the saved .torrent: %w", err)
		}
		md.Comment, md.CreatedBy = mi.Comment, mi.CreatedBy
		if mi.CreationDate > 0 {
			md.CreationDate = time.Unix(mi.CreationDate, 0)
		}
		info = &mi.Info
	case infoBytes != nil:
		if info, err = metainfo.ParseInfo(infoBytes); err != nil {
			return MetaDetail{}, fmt.Errorf("reading the saved info dictionary: %w", err)
		}
	default:
		return MetaDetail{}, fmt.Errorf("%w: the torrent's metadata is not known yet", ErrConflict)
	}
	md.PieceHashes = make([][20]byte, info.NumPieces())
	for i := range md.PieceHashes {
		md.PieceHashes[i] = info.PieceHash(i)
	}
	return md, nil
}
