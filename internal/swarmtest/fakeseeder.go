package swarmtest

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/bencode"
	"github.com/gobit/gobit/internal/wire"
	"github.com/gobit/gobit/internal/wire/wiretest"
)

// AnnounceFake registers a peer at 127.0.0.1:port for infoHash with the
// HTTP tracker announceURL, as a seeder, so sessions learn about it.
func AnnounceFake(t testing.TB, announceURL string, infoHash [20]byte, peerID [20]byte, port int) {
	t.Helper()
	q := url.Values{}
	q.Set("info_hash", string(infoHash[:]))
	q.Set("peer_id", string(peerID[:]))
	q.Set("port", fmt.Sprint(port))
	q.Set("uploaded", "0")
	q.Set("downloaded", "0")
	q.Set("left", "0")
	q.Set("compact", "1")
	q.Set("event", "started")
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(announceURL + "?" + q.Encode())
	if err != nil {
		t.Fatalf("fake announce: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("fake announce: %s", resp.Status)
	}
}

// FakePeer is a listening hand-driven peer: for each incoming connection it
// answers the handshake for InfoHash and then runs Serve. Connections and
// the listener are closed at test cleanup.
type FakePeer struct {
	// Port is the listening port on 127.0.0.1.
	Port int
	ln   net.Listener
}

// StartFakePeer listens on 127.0.0.1 and serves each connection whose
// handshake names infoHash with serve (in its own goroutine).
func StartFakePeer(t testing.TB, infoHash, peerID [20]byte, serve func(nc net.Conn, remote wire.Handshake)) *FakePeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &FakePeer{Port: ln.Addr().(*net.TCPAddr).Port, ln: ln}
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		ln.Close()
	})
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				go func() {
					<-done
					nc.Close()
				}()
				nc.SetDeadline(time.Now().Add(10 * time.Second))
				remote, err := wire.ReadHandshake(nc)
				if err != nil || remote.InfoHash != infoHash {
					return
				}
				hs := wire.Handshake{InfoHash: infoHash, PeerID: peerID}
				hs.SetFast()
				hs.SetExtended()
				if _, err := nc.Write(hs.AppendTo(nil)); err != nil {
					return
				}
				nc.SetDeadline(time.Time{})
				serve(nc, remote)
			}()
		}
	}()
	return f
}

// fakeMetadataID is the ut_metadata message ID a ServeTorrent peer asks for.
const fakeMetadataID = 3

// ServeTorrent returns a FakePeer serve function that acts as a minimal
// seeder: it answers the extension handshake (offering ut_metadata for
// infoBytes), announces every piece (HaveAll), unchokes, answers metadata
// requests and serves block requests from payload, the torrent's
// concatenated data. It does no validation beyond bounds checks: it exists
// to hand a client crafted metadata and data.
func ServeTorrent(infoBytes, payload []byte) func(nc net.Conn, remote wire.Handshake) {
	pieceLen := pieceLenOf(infoBytes)
	return func(nc net.Conn, remote wire.Handshake) {
		var out []byte
		if remote.SupportsExtended() {
			h := wire.ExtendedHandshake{M: map[string]int{wire.ExtMetadata: fakeMetadataID}, V: "fake", MetadataSize: len(infoBytes)}
			p, err := h.Marshal()
			if err != nil {
				return
			}
			out = (&wire.Message{ID: wire.Extended, ExtendedID: wire.ExtendedHandshakeID, Payload: p}).AppendTo(out)
		}
		out = (&wire.Message{ID: wire.HaveAll}).AppendTo(out)
		out = (&wire.Message{ID: wire.Unchoke}).AppendTo(out)
		theirMetadataID := 0
		var buf []byte
		for {
			if len(out) > 0 {
				nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if _, err := nc.Write(out); err != nil {
					return
				}
				out = out[:0]
			}
			nc.SetReadDeadline(time.Now().Add(time.Minute))
			m, nb, err := wiretest.ReadMessage(nc, buf)
			if err != nil {
				return
			}
			buf = nb
			if m.KeepAlive {
				continue
			}
			switch m.ID {
			case wire.Request:
				lo := int64(m.Index)*pieceLen + int64(m.Begin)
				hi := lo + int64(m.Length)
				if hi > int64(len(payload)) || m.Length > 1<<17 {
					continue
				}
				out = (&wire.Message{ID: wire.Piece, Index: m.Index, Begin: m.Begin, Block: payload[lo:hi]}).AppendTo(out)
			case wire.Extended:
				if m.ExtendedID == wire.ExtendedHandshakeID {
					if h, err := wire.ParseExtendedHandshake(m.Payload); err == nil {
						theirMetadataID = h.M[wire.ExtMetadata]
					}
					continue
				}
				if m.ExtendedID != fakeMetadataID || theirMetadataID <= 0 || theirMetadataID > 255 {
					continue
				}
				req, err := wire.ParseMetadataMessage(m.Payload)
				if err != nil || req.Type != wire.MetadataRequest {
					continue
				}
				lo := req.Piece * wire.MetadataPieceSize
				if lo < 0 || lo >= len(infoBytes) {
					continue
				}
				hi := min(lo+wire.MetadataPieceSize, len(infoBytes))
				resp := wire.MetadataMessage{Type: wire.MetadataData, Piece: req.Piece, TotalSize: len(infoBytes), Data: infoBytes[lo:hi]}
				out = (&wire.Message{ID: wire.Extended, ExtendedID: uint8(theirMetadataID), Payload: resp.Marshal()}).AppendTo(out)
			}
		}
	}
}

// pieceLenOf extracts "piece length" from a bencoded info dictionary, or
// returns 16 KiB when it cannot.
func pieceLenOf(infoBytes []byte) int64 {
	var info struct {
		PieceLength int64 `bencode:"piece length"`
	}
	if err := bencode.Unmarshal(infoBytes, &info); err != nil || info.PieceLength <= 0 {
		return 16 << 10
	}
	return info.PieceLength
}
