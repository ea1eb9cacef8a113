package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/gobit/gobit/internal/wire"
)

// DefaultHandshakeTimeout bounds the BitTorrent handshake exchange.
const DefaultHandshakeTimeout = 10 * time.Second

// ErrInfoHashMismatch means the remote answered for another torrent.
var ErrInfoHashMismatch = errors.New("peer: handshake info hash mismatch")

// Dial connects to addr and exchanges handshakes. The dial and the exchange
// together are bounded by timeout (and ctx).
func Dial(ctx context.Context, addr netip.AddrPort, ours wire.Handshake, timeout time.Duration) (net.Conn, wire.Handshake, error) {
	return DialWith(ctx, nil, addr, ours, timeout)
}

// DialFunc opens a transport connection (TCP, uTP) to a peer.
type DialFunc func(ctx context.Context, addr netip.AddrPort) (net.Conn, error)

// DialWith is Dial over the connection dial opens (nil: TCP); timeout
// bounds both the dial and the handshake.
func DialWith(ctx context.Context, dial DialFunc, addr netip.AddrPort, ours wire.Handshake, timeout time.Duration) (net.Conn, wire.Handshake, error) {
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if dial == nil {
		dial = DialTCP
	}
	nc, err := dial(ctx, addr)
	if err != nil {
		return nil, wire.Handshake{}, err
	}
	deadline, _ := ctx.Deadline()
	nc.SetDeadline(deadline)
	// Cancelling ctx interrupts the exchange at once.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fail := func(err error) (net.Conn, wire.Handshake, error) {
		nc.Close()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
		}
		return nil, wire.Handshake{}, fmt.Errorf("handshake: %w", err)
	}
	if _, err := nc.Write(ours.AppendTo(nil)); err != nil {
		return fail(err)
	}
	theirs, err := wire.ReadHandshake(nc)
	if err != nil {
		return fail(err)
	}
	if !bytes.Equal(theirs.InfoHash[:], ours.InfoHash[:]) {
		nc.Close()
		return nil, wire.Handshake{}, ErrInfoHashMismatch
	}
	if !stop() {
		return fail(context.Cause(ctx))
	}
	nc.SetDeadline(time.Time{})
	return nc, theirs, nil
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
	reserved, ih, err := wire.ReadHandshakeInfoHash(nc)
	if err != nil {
		return wire.Handshake{}, fmt.Errorf("handshake: %w", err)
	}
	ours, ok := lookup(ih)
	if !ok {
		nc.Close()
		return wire.Handshake{}, fmt.Errorf("handshake: unknown info hash %x", ih)
	}
	if _, err := nc.Write(ours.AppendTo(nil)); err != nil {
		return wire.Handshake{}, fmt.Errorf("handshake: %w", err)
	}
	id, err := wire.ReadPeerID(nc)
	if err != nil {
		return wire.Handshake{}, fmt.Errorf("handshake: %w", err)
	}
	nc.SetDeadline(time.Time{})
	return wire.Handshake{Reserved: reserved, InfoHash: ih, PeerID: id}, nil
}

// DialTCP opens a TCP connection to addr.
func DialTCP(ctx context.Context, addr netip.AddrPort) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr.String())
}
