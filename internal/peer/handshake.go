package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/gobit/gobit/internal/wire"
)

// DefaultHandshakeTimeout bounds the BitTorrent handshake exchange.
const DefaultHandshakeTimeout = 10 * time.Second

// ErrInfoHashMismatch means the remote answered for another torrent.
var ErrInfoHashMismatch = errors.New("peer: handshake info hash mismatch")

// Dial connects to addr and exchanges plain handshakes. The dial and the
// exchange together are bounded by timeout (and ctx).
func Dial(ctx context.Context, addr netip.AddrPort, ours wire.Handshake, timeout time.Duration) (net.Conn, wire.Handshake, error) {
	nc, hs, _, err := dial(ctx, addr, timeout, plainExchange(ours))
	return nc, hs, err
}

// Accept runs the responder side of the handshake on an incoming connection:
// it reads the remote's reserved bits and info hash, asks lookup for our
// handshake for that info hash (ok=false closes the connection: unknown
// torrent), answers, and reads the remote peer ID. The exchange is bounded by
// timeout.
func Accept(nc net.Conn, timeout time.Duration, lookup func(infoHash [20]byte) (wire.Handshake, bool)) (wire.Handshake, error) {
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	nc.SetDeadline(time.Now().Add(timeout))
	h, err := respond(nc, func(ih [20]byte) (wire.Handshake, bool) {
		ours, ok := lookup(ih)
		if !ok {
			nc.Close()
		}
		return ours, ok
	})
	if err != nil {
		return wire.Handshake{}, err
	}
	nc.SetDeadline(time.Time{})
	return h, nil
}

// respond reads the remote's reserved bits and info hash from rw, asks
// lookup for our handshake, answers, and reads the remote peer ID.
func respond(rw io.ReadWriter, lookup func(infoHash [20]byte) (wire.Handshake, bool)) (wire.Handshake, error) {
	reserved, ih, err := wire.ReadHandshakeInfoHash(rw)
	if err != nil {
		return wire.Handshake{}, fmt.Errorf("handshake: %w", err)
	}
	ours, ok := lookup(ih)
	if !ok {
		return wire.Handshake{}, fmt.Errorf("handshake: unknown info hash %x", ih)
	}
	if _, err := rw.Write(ours.AppendTo(nil)); err != nil {
		return wire.Handshake{}, fmt.Errorf("handshake: %w", err)
	}
	id, err := wire.ReadPeerID(rw)
	if err != nil {
		return wire.Handshake{}, fmt.Errorf("handshake: %w", err)
	}
	return wire.Handshake{Reserved: reserved, InfoHash: ih, PeerID: id}, nil
}

// DialTCP opens a TCP connection to addr.
func DialTCP(ctx context.Context, addr netip.AddrPort) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr.String())
}
