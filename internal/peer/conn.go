package peer

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobit/gobit/internal/wire"
)

// Default timeouts and limits of a connection.
const (
	DefaultReadTimeout  = 3 * time.Minute
	DefaultWriteTimeout = time.Minute
	DefaultKeepAlive    = 90 * time.Second
	// DefaultMaxQueuedBytes bounds the bytes waiting in a peer's send queue.
	DefaultMaxQueuedBytes = 16 << 20
)

// ErrSendQueueFull is the close reason of a peer that does not read fast
// enough to drain its send queue.
var ErrSendQueueFull = errors.New("peer: send queue full")

// ErrClosed is the close reason of a connection closed locally.
var ErrClosed = errors.New("peer: connection closed")

// Event is a message received from a peer, or (Err != nil) the end of the
// connection. Byte slices in Msg are owned by the receiver of the event.
type Event struct {
	Conn *Conn
	Msg  wire.Message
	Err  error
}

// Config tunes a connection. Zero fields take the defaults above.
type Config struct {
	ReadTimeout    time.Duration
	WriteTimeout   time.Duration
	KeepAlive      time.Duration
	MaxQueuedBytes int
	// Limiter, when set, throttles payload bytes in each direction.
	Limiter Limiter
}

// Limiter throttles payload bytes. WaitRead and WaitWrite block until n bytes
// may pass or the connection closes (done is closed).
type Limiter interface {
	WaitRead(n int, done <-chan struct{})
	WaitWrite(n int, done <-chan struct{})
}

// Conn is one established peer connection (after the BitTorrent handshake).
type Conn struct {
	// Addr is the remote address.
	Addr netip.AddrPort
	// Handshake is the remote side's handshake.
	Handshake wire.Handshake
	// Outgoing is true when we dialled the peer.
	Outgoing bool

	nc     net.Conn
	cfg    Config
	events chan<- Event
	done   <-chan struct{} // the owner's shutdown

	mu     sync.Mutex
	queue  []wire.Message
	queued int
	wakeC  chan struct{}

	closeOnce sync.Once
	closeC    chan struct{}
	closeErr  atomic.Pointer[error]

	// Payload byte counters (piece data only), read by the owner for rates.
	downloaded atomic.Int64
	uploaded   atomic.Int64
}

// New wraps an established connection (handshakes exchanged) and starts its
// reader and writer. Events go to events until the connection ends; sends on
// events also give up when done is closed.
func New(nc net.Conn, remote wire.Handshake, outgoing bool, events chan<- Event, done <-chan struct{}, cfg Config) *Conn {
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = DefaultKeepAlive
	}
	if cfg.MaxQueuedBytes <= 0 {
		cfg.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	c := &Conn{
		Addr:      AddrOf(nc.RemoteAddr()),
		Handshake: remote,
		Outgoing:  outgoing,
		nc:        nc,
		cfg:       cfg,
		events:    events,
		done:      done,
		wakeC:     make(chan struct{}, 1),
		closeC:    make(chan struct{}),
	}
	go c.readLoop()
	go c.writeLoop()
	return c
}

// AddrOf converts a net.Addr of a TCP connection to a netip.AddrPort.
func AddrOf(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// String names the peer in logs.
func (c *Conn) String() string { return c.Addr.String() }

// Downloaded returns the piece payload bytes received so far.
func (c *Conn) Downloaded() int64 { return c.downloaded.Load() }

// Uploaded returns the piece payload bytes sent so far.
func (c *Conn) Uploaded() int64 { return c.uploaded.Load() }

// Send queues a message. It never blocks; if the queue is over its byte
// limit the connection is closed with ErrSendQueueFull and false returned.
// Slices in m must not be modified after the call.
func (c *Conn) Send(m wire.Message) bool {
	select {
	case <-c.closeC:
		return false
	default:
	}
	size := 13 + len(m.Block) + len(m.Bitfield) + len(m.Payload)
	c.mu.Lock()
	if c.queued+size > c.cfg.MaxQueuedBytes {
		c.mu.Unlock()
		c.CloseWith(ErrSendQueueFull)
		return false
	}
	c.queue = append(c.queue, m)
	c.queued += size
	c.mu.Unlock()
	select {
	case c.wakeC <- struct{}{}:
	default:
	}
	return true
}

// RemoveQueued drops queued but unsent messages for which drop returns true
// (e.g. a piece the peer cancelled) and returns how many were dropped.
func (c *Conn) RemoveQueued(drop func(*wire.Message) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	kept := c.queue[:0]
	for i := range c.queue {
		if drop(&c.queue[i]) {
			c.queued -= 13 + len(c.queue[i].Block) + len(c.queue[i].Bitfield) + len(c.queue[i].Payload)
			n++
			continue
		}
		kept = append(kept, c.queue[i])
	}
	clear(c.queue[len(kept):])
	c.queue = kept
	return n
}

// Close closes the connection locally.
func (c *Conn) Close() { c.CloseWith(ErrClosed) }

// CloseWith closes the connection, recording why.
func (c *Conn) CloseWith(err error) {
	c.closeOnce.Do(func() {
		c.closeErr.Store(&err)
		close(c.closeC)
		c.nc.Close()
	})
}

// Closed reports whether the connection has been closed.
func (c *Conn) Closed() bool {
	select {
	case <-c.closeC:
		return true
	default:
		return false
	}
}

func (c *Conn) reason(err error) error {
	if p := c.closeErr.Load(); p != nil {
		return *p
	}
	return err
}

func (c *Conn) deliver(ev Event) bool {
	select {
	case c.events <- ev:
		return true
	case <-c.done:
		return false
	}
}

func (c *Conn) readLoop() {
	br := bufio.NewReaderSize(c.nc, 64<<10)
	var buf []byte
	var err error
	for {
		c.nc.SetReadDeadline(time.Now().Add(c.cfg.ReadTimeout))
		var m wire.Message
		m, buf, err = wire.ReadMessage(br, buf)
		if err != nil {
			break
		}
		if m.KeepAlive {
			continue
		}
		// The codec's slices alias buf; give the owner its own copies.
		switch {
		case m.Block != nil:
			if c.cfg.Limiter != nil {
				c.cfg.Limiter.WaitRead(len(m.Block), c.closeC)
			}
			m.Block = append([]byte(nil), m.Block...)
			c.downloaded.Add(int64(len(m.Block)))
		case m.Bitfield != nil:
			m.Bitfield = append([]byte(nil), m.Bitfield...)
		case m.Payload != nil:
			m.Payload = append([]byte(nil), m.Payload...)
		}
		if !c.deliver(Event{Conn: c, Msg: m}) {
			c.Close()
			return
		}
	}
	c.CloseWith(fmt.Errorf("read: %w", err))
	c.deliver(Event{Conn: c, Err: c.reason(err)})
}

func (c *Conn) writeLoop() {
	bw := bufio.NewWriterSize(c.nc, 64<<10)
	keep := time.NewTimer(c.cfg.KeepAlive)
	defer keep.Stop()
	var frame []byte
	var batch []wire.Message
	for {
		select {
		case <-c.closeC:
			return
		case <-keep.C:
			batch = append(batch[:0], wire.Message{KeepAlive: true})
		case <-c.wakeC:
			c.mu.Lock()
			batch = append(batch[:0], c.queue...)
			clear(c.queue)
			c.queue = c.queue[:0]
			c.queued = 0
			c.mu.Unlock()
		}
		for i := range batch {
			m := &batch[i]
			if m.ID == wire.Piece && !m.KeepAlive && c.cfg.Limiter != nil {
				c.cfg.Limiter.WaitWrite(len(m.Block), c.closeC)
			}
			frame = m.AppendTo(frame[:0])
			c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
			if _, err := bw.Write(frame); err != nil {
				c.CloseWith(fmt.Errorf("write: %w", err))
				return
			}
			if m.ID == wire.Piece && !m.KeepAlive {
				c.uploaded.Add(int64(len(m.Block)))
			}
		}
		clear(batch)
		c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
		if err := bw.Flush(); err != nil {
			c.CloseWith(fmt.Errorf("write: %w", err))
			return
		}
		if !keep.Stop() {
			select {
			case <-keep.C:
			default:
			}
		}
		keep.Reset(c.cfg.KeepAlive)
	}
}
