package session

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/torrent"
	"github.com/gobit/gobit/internal/wire"
)

// TestSilentConnectionsHoldSlots: incoming connections that never send a
// handshake take connection slots while they wait, so beyond MaxConns new
// ones are closed at once and the goroutines held stay bounded (1,500 silent
// connections once made 1,509 goroutines and exhausted the file limit); once
// the silent ones time out, an honest peer gets in.
func TestSilentConnectionsHoldSlots(t *testing.T) {
	const maxConns, extra = 10, 60
	s, err := New(Config{
		DownloadDir: t.TempDir(), ListenAddr: "127.0.0.1", Port: 0,
		MaxConns: maxConns, HandshakeTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	data, mi := makeTorrent(t)
	if _, err := s.Add(context.Background(), AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", s.Port())
	testutil.WaitFor(t, 10*time.Second, "the torrent's first check to finish", func() bool {
		d, err := s.Get(mi.InfoHash.String())
		return err == nil && d.State == StateDownloading
	})
	base := runtime.NumGoroutine()

	var silent []net.Conn
	defer func() {
		for _, c := range silent {
			c.Close()
		}
	}()
	for range maxConns + extra {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		silent = append(silent, c)
	}
	testutil.WaitFor(t, 3*time.Second, "the silent connections to be accepted", func() bool { return s.conns.Used() == maxConns })
	// Those beyond the limit are closed at once, long before the handshake
	// timeout; the others are held. (A closed one reads EOF at once; a held
	// one times out after a short wait.)
	isClosed := make([]bool, len(silent))
	closed := 0
	testutil.WaitFor(t, 2*time.Second, "the connections beyond MaxConns to be closed", func() bool {
		for i, c := range silent {
			if isClosed[i] {
				continue
			}
			c.SetReadDeadline(time.Now().Add(time.Millisecond))
			if _, err := c.Read(make([]byte, 1)); errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				isClosed[i] = true
				closed++
			}
		}
		return closed >= extra
	})
	if closed != extra {
		t.Fatalf("%d of %d silent connections were closed at once, want the %d beyond MaxConns %d", closed, len(silent), extra, maxConns)
	}
	if used := s.conns.Used(); used != maxConns {
		t.Fatalf("%d connection slots used, want %d", used, maxConns)
	}
	if n := runtime.NumGoroutine() - base; n > maxConns+15 {
		t.Fatalf("%d more goroutines with %d silent connections, want at most %d", n, len(silent), maxConns+15)
	}

	// The handshake timeout frees the slots.
	testutil.WaitFor(t, 15*time.Second, "the silent connections to time out", func() bool { return s.conns.Used() == 0 })

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var id [20]byte
	rand.Read(id[:])
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(wire.Handshake{InfoHash: mi.InfoHash, PeerID: id}.AppendTo(nil)); err != nil {
		t.Fatal(err)
	}
	theirs, err := wire.ReadHandshake(c)
	if err != nil || theirs.InfoHash != mi.InfoHash {
		t.Fatalf("honest peer's handshake: %v (info hash %x)", err, theirs.InfoHash)
	}
	testutil.WaitFor(t, 5*time.Second, "the honest peer to be adopted", func() bool {
		l := s.List()
		return len(l) == 1 && l[0].Peers == 1 && s.conns.Used() == 1
	})
}

// failingListener is a net.Listener whose Accept fails with err, recording
// when it was called; after limit calls it reports itself closed, so that a
// loop that spins on the error ends instead of running forever.
type failingListener struct {
	err   error
	limit int
	mu    sync.Mutex
	calls []time.Time
}

func (l *failingListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, time.Now())
	if len(l.calls) > l.limit {
		return nil, net.ErrClosed
	}
	return nil, l.err
}

func (l *failingListener) Close() error   { return nil }
func (l *failingListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// TestAcceptBacksOffOnEMFILE: when Accept keeps failing with "too many open
// files", the loop retries after 5 ms, 10 ms, 20 ms, … up to 1 s between
// tries instead of spinning. Time is synctest's fake clock.
func TestAcceptBacksOffOnEMFILE(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := &failingListener{
			err:   &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)},
			limit: 10000,
		}
		s := &Session{log: slog.New(slog.DiscardHandler), conns: torrent.NewSlots(10), closeC: make(chan struct{})}
		s.wg.Add(1)
		go s.acceptLoop(ln)
		time.Sleep(10 * time.Second)
		close(s.closeC)
		s.wg.Wait()

		ln.mu.Lock()
		defer ln.mu.Unlock()
		// 5+10+…+640 ms is 1.275 s; then one try a second: about 17 tries.
		if n := len(ln.calls); n < 10 || n > 25 {
			t.Fatalf("Accept called %d times in 10 s of failures, want about 17", n)
		}
		want := minAcceptBackoff
		for i := 1; i < len(ln.calls); i++ {
			if gap := ln.calls[i].Sub(ln.calls[i-1]); gap != want {
				t.Fatalf("gap %d between Accept calls is %v, want %v", i, gap, want)
			}
			want = min(2*want, maxAcceptBackoff)
		}
	})
}
