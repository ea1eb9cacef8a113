package utp

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

// fakeDF is a dfControl that records the mode of the current send.
type fakeDF struct{ mode atomic.Int32 }

func (f *fakeDF) set(m dfMode) error { f.mode.Store(int32(m)); return nil }

// TestPathMTUSearch: over a path that takes datagrams of up to pathMax
// bytes (larger ones with don't-fragment set are lost, larger ones that
// may be fragmented arrive), a connection's packets grow from safePacket
// to within mtuStep below pathMax, the lost probes do not cut the
// window, and the data arrives whole.
func TestPathMTUSearch(t *testing.T) {
	for _, pathMax := range []int{1300, 1400, maxPacket4} {
		n := newMemNet(41)
		df := &fakeDF{}
		var big, probesLost atomic.Int32
		n.drop = func(_, _ netip.AddrPort, b []byte) bool {
			if len(b) <= pathMax {
				return false
			}
			if dfMode(df.mode.Load()) == dfProbe {
				probesLost.Add(1)
				return true
			}
			big.Add(1) // sent again fragmented
			return false
		}
		sa := NewSocket(n.listen("10.0.0.1:1000"), Config{})
		sb := NewSocket(n.listen("10.0.0.2:2000"), Config{})
		sa.df = df
		go func() {
			if c, err := sb.Accept(); err == nil {
				buf := make([]byte, 64<<10)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		a, err := sa.Dial(ctx, netip.MustParseAddrPort("10.0.0.2:2000"))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		a.SetWriteDeadline(time.Now().Add(20 * time.Second))
		if _, err := a.Write(make([]byte, 2<<20)); err != nil {
			t.Fatalf("path MTU %d: write: %v", pathMax, err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			sa.mu.Lock()
			floor, ceil, mss, cut, done := a.mtuFloor, a.mtuCeil, a.mss, a.cc.ssthresh < a.cc.maxCwnd, len(a.out) == 0 && a.pend.len() == 0
			sa.mu.Unlock()
			if done || time.Now().After(deadline) {
				if !done {
					t.Fatalf("path MTU %d: transfer not done in 20 s", pathMax)
				}
				if floor > pathMax || floor < pathMax-mtuStep || ceil-floor > mtuStep {
					t.Errorf("path takes %d: search ended at %d..%d", pathMax, floor, ceil)
				}
				if mss != floor-headerSize {
					t.Errorf("path takes %d: payload %d, want %d", pathMax, mss, floor-headerSize)
				}
				if cut {
					t.Errorf("path takes %d: the window was cut for lost probes", pathMax)
				}
				t.Logf("path takes %d bytes: packets of %d, %d probes lost, %d sent again fragmented", pathMax, floor, probesLost.Load(), big.Load())
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if pathMax < maxPacket4 && probesLost.Load() == 0 {
			t.Errorf("path takes %d: no probe lost", pathMax)
		}
		sa.Close()
		sb.Close()
	}
}

// TestNoPathMTUWithoutDF: where the don't-fragment bit cannot be
// controlled (here a PacketConn that is not a UDP socket), packets stay at
// safePacket.
func TestNoPathMTUWithoutDF(t *testing.T) {
	n := newMemNet(42)
	var over atomic.Int32
	n.drop = func(_, _ netip.AddrPort, b []byte) bool {
		if len(b) > safePacket {
			over.Add(1)
		}
		return false
	}
	a, b, _, _ := pair(t, n, Config{}, Config{})
	transfer(t, a, b, randBytes(3, 1<<20), 20*time.Second)
	if over.Load() != 0 {
		t.Fatalf("%d datagrams over %d bytes without path-MTU discovery", over.Load(), safePacket)
	}
}
