package metrics_test

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metrics"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/swarmtest"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/wire"
)

// TestErrorsByKind has a leecher meet a peer serving corrupt data and a
// peer breaking the protocol, and checks that gobit_errors_total counts
// hash failures and protocol errors, and nothing else.
func TestErrorsByKind(t *testing.T) {
	const size, pieceLen = 256 << 10, 32 << 10
	dir := t.TempDir()
	root := swarmtest.Payload(t, filepath.Join(dir, "seed"), "payload.bin", 9, map[string]int{"": size})
	data, mi := swarmtest.MakeTorrent(t, root, pieceLen)
	payload, err := os.ReadFile(root)
	if err != nil {
		t.Fatal(err)
	}
	bad := make([]byte, len(payload))
	for i, b := range payload {
		bad[i] = ^b // every piece fails its hash
	}
	corrupt := swarmtest.StartFakePeer(t, mi.InfoHash, [20]byte{'c', 'o', 'r', 'r', 'u', 'p', 't'}, swarmtest.ServeTorrent(mi.InfoBytes, bad))
	rude := swarmtest.StartFakePeer(t, mi.InfoHash, [20]byte{'r', 'u', 'd', 'e'}, func(nc net.Conn, _ wire.Handshake) {
		// A HAVE for a piece the torrent does not have: a protocol error.
		nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		nc.Write((&wire.Message{ID: wire.Have, Index: 1 << 20}).AppendTo(nil))
		buf := make([]byte, 1024)
		nc.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			if _, err := nc.Read(buf); err != nil {
				return // closed by the leecher
			}
		}
	})

	leech := swarmtest.NewSession(t, filepath.Join(dir, "leech"))
	srv := httptest.NewServer(metrics.Handler(leech, metrics.Options{PerTorrent: true}))
	t.Cleanup(srv.Close)
	hash := mi.InfoHash.String()
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	if err := leech.AddPeers(hash, fmt.Sprint("127.0.0.1:", corrupt.Port), fmt.Sprint("127.0.0.1:", rude.Port)); err != nil {
		t.Fatal(err)
	}
	var s scrape
	testutil.WaitFor(t, 30*time.Second, "hash failures and a protocol error in the scrape", func() bool {
		s = scrapeURL(t, srv.URL, "")
		h, _ := s.get("gobit_errors_total", "kind", "hash")
		p, _ := s.get("gobit_errors_total", "kind", "peer_protocol")
		return h >= 1 && p >= 1
	})
	if v := s.must(t, "gobit_errors_total", "kind", "disk"); v != 0 {
		t.Errorf("disk errors %v: nothing was written", v)
	}
	if v := s.must(t, "gobit_disk_write_duration_seconds"); v != 0 {
		t.Errorf("%v piece writes, but every piece was corrupt", v)
	}
	if v := s.must(t, "gobit_torrent_pieces_verified", "info_hash", hash); v != 0 {
		t.Errorf("%v pieces verified from corrupt data", v)
	}
	if v := s.must(t, "gobit_downloaded_bytes_total"); v < pieceLen {
		t.Errorf("downloaded %v bytes, but a corrupt piece (%d bytes) was received", v, pieceLen)
	}
}
