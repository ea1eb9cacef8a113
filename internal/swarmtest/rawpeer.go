package swarmtest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/wire"
)

// RawPeer is a hand-driven peer connection for hostile-peer tests: the test
// writes whatever bytes it likes through the codec or raw.
type RawPeer struct {
	// Conn is the TCP connection.
	Conn net.Conn
	// Remote is the handshake the other side answered with.
	Remote wire.Handshake
}

// DialRaw connects to a peer on 127.0.0.1:port and exchanges handshakes for
// infoHash with the given peer ID, advertising the Fast and extension
// protocol bits. The connection is closed at test cleanup.
func DialRaw(t testing.TB, port int, infoHash, peerID [20]byte) *RawPeer {
	t.Helper()
	p, err := TryDialRaw(port, infoHash, peerID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Conn.Close() })
	return p
}

// TryDialRaw is DialRaw returning the error instead of failing the test;
// the caller closes the connection.
func TryDialRaw(port int, infoHash, peerID [20]byte) (*RawPeer, error) {
	nc, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("dial raw peer: %w", err)
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	hs := wire.Handshake{InfoHash: infoHash, PeerID: peerID}
	hs.SetFast()
	hs.SetExtended()
	if _, err := nc.Write(hs.AppendTo(nil)); err != nil {
		nc.Close()
		return nil, fmt.Errorf("raw peer handshake: %w", err)
	}
	remote, err := wire.ReadHandshake(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("raw peer handshake: %w", err)
	}
	nc.SetDeadline(time.Time{})
	return &RawPeer{Conn: nc, Remote: remote}, nil
}

// Send writes messages, ignoring errors (the other side may have hung up,
// which is what the tests check afterwards).
func (p *RawPeer) Send(msgs ...wire.Message) {
	var b []byte
	for i := range msgs {
		b = msgs[i].AppendTo(b)
	}
	p.Write(b)
}

// Write writes raw bytes, ignoring errors.
func (p *RawPeer) Write(b []byte) {
	p.Conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	p.Conn.Write(b)
}

// WaitClosed reads and discards until the other side closes the connection
// and reports whether it did so within timeout.
func (p *RawPeer) WaitClosed(timeout time.Duration) bool {
	p.Conn.SetReadDeadline(time.Now().Add(timeout))
	_, err := io.Copy(io.Discard, p.Conn)
	return !errors.Is(err, os.ErrDeadlineExceeded)
}
