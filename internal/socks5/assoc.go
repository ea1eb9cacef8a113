package socks5

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Backoff defaults of an Association.
const (
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 2 * time.Minute
)

// ErrNotAssociated is the error of a write while an Association has no
// association with the proxy (connecting, or failed and waiting to retry):
// the datagram is dropped, never sent another way.
var ErrNotAssociated = errors.New("socks5: no UDP association with the proxy")

// AssocState is the state of an Association.
type AssocState string

// The states of an Association.
const (
	// AssocConnecting: associating for the first time.
	AssocConnecting AssocState = "connecting"
	// AssocAssociated: datagrams flow through the proxy's relay.
	AssocAssociated AssocState = "associated"
	// AssocFailed: the proxy refused the association, could not be
	// reached, or ended it; datagrams are dropped until the next attempt
	// (at Retry) succeeds.
	AssocFailed AssocState = "failed"
	// AssocClosed: Close was called.
	AssocClosed AssocState = "closed"
)

// AssocStatus is a snapshot of an Association.
type AssocStatus struct {
	State AssocState
	// Relay is the proxy's relay address while associated.
	Relay netip.AddrPort
	// Err is why the last attempt failed or the last association ended
	// (nil while associated and before any failure).
	Err error
	// Since is when State began; Retry, when failed, is when the next
	// attempt starts.
	Since, Retry time.Time
	// Associations counts the associations made, Failures the attempts
	// that failed and the associations the proxy ended.
	Associations, Failures int
}

// AssocConfig tunes an Association. Zero fields take the defaults.
type AssocConfig struct {
	// MinBackoff is the wait before the first retry; each failure in a
	// row doubles it up to MaxBackoff; an association that lasted resets
	// it.
	MinBackoff, MaxBackoff time.Duration
	// OnChange, when set, is called (from the Association's goroutine)
	// with every change of state. It must not block for long.
	OnChange func(AssocStatus)
}

// Association is a UDP association with a proxy that outlives the proxy's
// failures: it associates in the background, and when the proxy refuses
// UDP ASSOCIATE, cannot be reached or drops the control connection, it
// reports the failure, waits (exponential backoff) and associates again.
// Datagrams go only through the proxy: while there is no association,
// writes fail with ErrNotAssociated and reads wait for the next one.
//
// It is a net.PacketConn for one long-lived user (a uTP socket and the
// DHT sharing it). Datagrams from the relay of an association that ended
// are never returned: each association has its own local socket.
type Association struct {
	p   *Proxy
	cfg AssocConfig

	mu      sync.Mutex
	cur     *PacketConn   // nil while not associated
	ready   chan struct{} // closed when cur is set (replaced when it ends)
	st      AssocStatus
	rdl     time.Time // read deadline
	rdlWake chan struct{}
	// rbuf and wbuf are the socket buffer sizes asked for (0: the
	// system's), applied to each association's socket.
	rbuf, wbuf int

	closeC chan struct{}
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	once   sync.Once
	wg     sync.WaitGroup
}

// Associate returns an Association with p, which starts associating at
// once in the background.
func (p *Proxy) Associate(cfg AssocConfig) *Association {
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	a := &Association{
		p:       p,
		cfg:     cfg,
		ready:   make(chan struct{}),
		rdlWake: make(chan struct{}),
		closeC:  make(chan struct{}),
		st:      AssocStatus{State: AssocConnecting, Since: time.Now()},
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.wg.Add(1)
	go a.run()
	return a
}

// run associates, waits for the association to end, and retries with
// backoff, until Close.
func (a *Association) run() {
	defer a.wg.Done()
	backoff := a.cfg.MinBackoff
	for {
		ctx, cancel := context.WithTimeout(a.ctx, a.p.timeout())
		pc, err := a.p.ListenPacket(ctx)
		cancel()
		if err == nil {
			started := time.Now()
			if !a.set(pc) {
				pc.Close()
				return
			}
			select {
			case <-pc.Done():
			case <-a.closeC:
				pc.Close()
				return
			}
			err = pc.Err()
			if time.Since(started) > a.cfg.MaxBackoff {
				backoff = a.cfg.MinBackoff
			}
		}
		if !a.fail(err, backoff) {
			return
		}
		select {
		case <-time.After(backoff):
		case <-a.closeC:
			return
		}
		backoff = min(2*backoff, a.cfg.MaxBackoff)
	}
}

// set makes pc the current association; false if closed meanwhile.
func (a *Association) set(pc *PacketConn) bool {
	a.mu.Lock()
	select {
	case <-a.closeC:
		a.mu.Unlock()
		return false
	default:
	}
	a.cur = pc
	a.st.State, a.st.Relay, a.st.Err = AssocAssociated, pc.Relay(), nil
	a.st.Since, a.st.Retry = time.Now(), time.Time{}
	a.st.Associations++
	pc.SetReadDeadline(a.rdl)
	if a.rbuf > 0 {
		pc.SetReadBuffer(a.rbuf)
	}
	if a.wbuf > 0 {
		pc.SetWriteBuffer(a.wbuf)
	}
	close(a.ready)
	st := a.st
	a.mu.Unlock()
	a.notify(st)
	return true
}

// fail records a failed attempt or an ended association; false if
// closed.
func (a *Association) fail(err error, retryIn time.Duration) bool {
	a.mu.Lock()
	select {
	case <-a.closeC:
		a.mu.Unlock()
		return false
	default:
	}
	if a.cur != nil {
		a.cur = nil
		a.ready = make(chan struct{})
	}
	now := time.Now()
	a.st.State, a.st.Relay, a.st.Err = AssocFailed, netip.AddrPort{}, err
	a.st.Since, a.st.Retry = now, now.Add(retryIn)
	a.st.Failures++
	st := a.st
	a.mu.Unlock()
	a.notify(st)
	return true
}

func (a *Association) notify(st AssocStatus) {
	if a.cfg.OnChange != nil {
		a.cfg.OnChange(st)
	}
}

// Status returns the association's state.
func (a *Association) Status() AssocStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.st
}

// current returns the association, or a channel closed when there is one.
func (a *Association) current() (*PacketConn, <-chan struct{}, time.Time, <-chan struct{}) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cur, a.ready, a.rdl, a.rdlWake
}

// ReadFromUDPAddrPort reads the next datagram relayed to the association;
// while there is none it waits for one (or the read deadline, or Close).
func (a *Association) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		pc, ready, dl, wake := a.current()
		if pc != nil {
			n, from, err := pc.ReadFromUDPAddrPort(b)
			if err == nil {
				return n, from, nil
			}
			select {
			case <-pc.Done():
				// The association ended: wait for the next one (run
				// replaces it), unless the Association is closed.
				select {
				case <-a.closeC:
					return 0, netip.AddrPort{}, net.ErrClosed
				default:
				}
				a.mu.Lock()
				if a.cur == pc {
					a.cur = nil
					a.ready = make(chan struct{})
				}
				a.mu.Unlock()
				continue
			default:
				return 0, netip.AddrPort{}, err // a deadline
			}
		}
		if err := a.waitReady(ready, dl, wake); err != nil {
			return 0, netip.AddrPort{}, err
		}
	}
}

// waitReady waits for the next association (ready closed), a new read
// deadline (wake closed), the deadline dl, or Close.
func (a *Association) waitReady(ready <-chan struct{}, dl time.Time, wake <-chan struct{}) error {
	var timeout <-chan time.Time
	if !dl.IsZero() {
		d := time.Until(dl)
		if d <= 0 {
			return os.ErrDeadlineExceeded
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ready:
	case <-wake:
	case <-timeout:
		return os.ErrDeadlineExceeded
	case <-a.closeC:
		return net.ErrClosed
	}
	return nil
}

// WriteToUDPAddrPort sends b to addr through the proxy's relay, or fails
// with ErrNotAssociated while there is no association.
func (a *Association) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	a.mu.Lock()
	pc := a.cur
	a.mu.Unlock()
	if pc == nil {
		select {
		case <-a.closeC:
			return 0, net.ErrClosed
		default:
		}
		return 0, ErrNotAssociated
	}
	return pc.WriteToUDPAddrPort(b, addr)
}

// ReadFrom implements net.PacketConn.
func (a *Association) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := a.ReadFromUDPAddrPort(b)
	if err != nil {
		return 0, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// WriteTo implements net.PacketConn; addr must be a *net.UDPAddr.
func (a *Association) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, fmt.Errorf("socks5: WriteTo %T", addr)
	}
	return a.WriteToUDPAddrPort(b, ua.AddrPort())
}

// Close ends the association and stops retrying.
func (a *Association) Close() error {
	a.once.Do(func() {
		a.mu.Lock()
		close(a.closeC)
		pc := a.cur
		a.cur = nil
		a.st.State, a.st.Since, a.st.Retry = AssocClosed, time.Now(), time.Time{}
		a.mu.Unlock()
		a.cancel()
		if pc != nil {
			pc.Close()
		}
	})
	a.wg.Wait()
	return nil
}

// LocalAddr returns the local socket's address while associated, else
// the unspecified IPv4 address (port 0): each association has a socket
// of its own.
func (a *Association) LocalAddr() net.Addr {
	a.mu.Lock()
	pc := a.cur
	a.mu.Unlock()
	if pc != nil {
		return pc.LocalAddr()
	}
	return &net.UDPAddr{IP: net.IPv4zero}
}

// SetDeadline sets the read deadline (writes do not block).
func (a *Association) SetDeadline(t time.Time) error { return a.SetReadDeadline(t) }

// SetReadDeadline sets the read deadline, for the current association
// and those to come.
func (a *Association) SetReadDeadline(t time.Time) error {
	a.mu.Lock()
	a.rdl = t
	pc := a.cur
	close(a.rdlWake)
	a.rdlWake = make(chan struct{})
	a.mu.Unlock()
	if pc != nil {
		pc.SetReadDeadline(t)
	}
	return nil
}

// SetReadBuffer sets the receive buffer size of the association's socket,
// now and after each new association.
func (a *Association) SetReadBuffer(bytes int) error {
	a.mu.Lock()
	a.rbuf = bytes
	pc := a.cur
	a.mu.Unlock()
	if pc != nil {
		return pc.SetReadBuffer(bytes)
	}
	return nil
}

// SetWriteBuffer sets the send buffer size of the association's socket,
// now and after each new association.
func (a *Association) SetWriteBuffer(bytes int) error {
	a.mu.Lock()
	a.wbuf = bytes
	pc := a.cur
	a.mu.Unlock()
	if pc != nil {
		return pc.SetWriteBuffer(bytes)
	}
	return nil
}

// SetWriteDeadline does nothing: writes do not block.
func (a *Association) SetWriteDeadline(time.Time) error { return nil }

var _ net.PacketConn = (*Association)(nil)
