package session

import (
	"errors"
	"net"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/mse"
	"github.com/gobit/gobit/internal/peer"
	"github.com/gobit/gobit/internal/torrent"
	"github.com/gobit/gobit/internal/wire"
)

// Accept loop back-off after a failed Accept (too many open files, a
// network error): it starts at minAcceptBackoff and doubles up to
// maxAcceptBackoff, and is reset by the next accepted connection.
const (
	minAcceptBackoff = 5 * time.Millisecond
	maxAcceptBackoff = time.Second
)

// acceptLoop accepts incoming peer connections until ln is closed.
//
// Every connection takes one of the session's MaxConns slots (s.conns) as
// soon as it is accepted, before its handshake: a connection beyond the
// limit is closed at once, so silent connections cannot pile up goroutines
// and file descriptors. The slot is released when the handshake fails or
// times out (Config.HandshakeTimeout), and handed to the torrent when it
// succeeds.
//
// A failed Accept is not retried at once: with the process out of file
// descriptors (EMFILE, ENFILE) it would fail again immediately and spin, so
// the loop sleeps, doubling the pause on each consecutive failure.
func (s *Session) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			backoff = min(max(2*backoff, minAcceptBackoff), maxAcceptBackoff)
			s.log.Warn("accepting peer connections failed; backing off", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-s.closeC:
				return
			}
			continue
		}
		backoff = 0
		if s.net.bind != nil {
			nc = s.bound.conns.Track(nc) // closed when the interface goes
		}
		if s.blockedConn(nc) {
			nc.Close()
			continue
		}
		if !s.conns.TryAcquire() {
			s.log.Debug("incoming connection refused: connection limit reached", "peer", nc.RemoteAddr(), "limit", s.cfg.MaxConns)
			nc.Close()
			continue
		}
		go s.handleIncoming(nc)
	}
}

// handleIncoming runs the handshake of an accepted connection, which holds
// a connection slot, and hands it to its torrent: a plain handshake or an
// MSE one (peer.AcceptPolicy, under Config.Encryption), on this goroutine,
// so the key exchange never runs on a torrent's loop.
func (s *Session) handleIncoming(nc net.Conn) {
	var target *torrent.Torrent
	stream, hs, err := peer.AcceptPolicy(nc, peer.AcceptConfig{
		Timeout:    s.cfg.HandshakeTimeout,
		Encryption: s.cfg.Encryption,
		Lookup: func(ih [20]byte) (wire.Handshake, bool) {
			s.mu.Lock()
			e := s.torrents[metainfo.Hash(ih)]
			s.mu.Unlock()
			if e == nil {
				return wire.Handshake{}, false
			}
			target = e.t
			return e.t.Handshake(), true
		},
		FindInfoHash: s.findReq2,
	})
	// The torrent takes a slot of its own for the peers it adopts, so the
	// handshake's is given back here, in both cases.
	s.conns.Release()
	if err != nil {
		s.log.Debug("incoming connection refused", "peer", nc.RemoteAddr(), "err", err)
		nc.Close()
		return
	}
	target.AddConn(stream, hs)
}

// findReq2 returns the info hash of the torrent whose mse.Req2 is req2: how
// an encrypted handshake names its torrent. It hashes every torrent's info
// hash (one SHA-1 of 24 bytes each, well under a millisecond for a thousand
// torrents), which keeps no second index to maintain.
func (s *Session) findReq2(req2 [20]byte) ([20]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ih := range s.torrents {
		if mse.Req2(ih) == req2 {
			return [20]byte(ih), true
		}
	}
	return [20]byte{}, false
}
