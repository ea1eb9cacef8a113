package peer

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobit/gobit/internal/blockpool"
	"github.com/gobit/gobit/internal/mse"
	"github.com/gobit/gobit/internal/rawio"
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

// Event is a message received from a peer, with the messages read along
// with it, or (Err != nil) the end of the connection. Byte slices in the
// messages are owned by the receiver of the event.
type Event struct {
	Conn *Conn
	Msg  wire.Message
	// More holds the messages that came after Msg and were already in
	// memory when it was delivered, in order (at most maxBatch-1; nil if
	// none). One event per read instead of one per message saves the
	// hand-offs between the reader and the owner. The receiver may hand the
	// slice back with PutBatch once it is done with it.
	More []wire.Message
	Err  error
}

// maxBatch is the most messages one Event carries.
const maxBatch = 16

// batches recycles Event.More slices: a bounded stack, so that handing
// one back allocates nothing (a sync.Pool would box each slice it is
// given, an allocation per event).
var batches struct {
	mu   sync.Mutex
	free [][]wire.Message
}

// maxFreeBatches bounds the idle Event.More slices kept (about 2 KiB
// each).
const maxFreeBatches = 64

func getBatch() []wire.Message {
	batches.mu.Lock()
	defer batches.mu.Unlock()
	if n := len(batches.free); n > 0 {
		b := batches.free[n-1]
		batches.free[n-1] = nil
		batches.free = batches.free[:n-1]
		return b
	}
	return make([]wire.Message, 0, maxBatch-1)
}

// PutBatch hands an Event's More slice back for reuse; the messages'
// contents are not touched.
func PutBatch(b []wire.Message) {
	if cap(b) == 0 {
		return
	}
	clear(b[:cap(b)])
	batches.mu.Lock()
	if len(batches.free) < maxFreeBatches {
		batches.free = append(batches.free, b[:0])
	}
	batches.mu.Unlock()
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
	// Encrypted is true when the stream is RC4-encrypted (MSE).
	Encrypted bool
	// Crypto names the stream's encryption: CryptoRC4, CryptoPlaintext
	// (an MSE handshake, then a plain stream) or CryptoNone.
	Crypto string
	// Transport is "tcp" or "utp": the connection's transport protocol.
	Transport string

	nc     net.Conn
	raw    *rawio.Conn // nc read and written with raw system calls, or nil
	cfg    Config
	events chan<- Event
	done   <-chan struct{} // the owner's shutdown

	mu     sync.Mutex
	queue  []wire.Message
	rel    []func() // release callbacks, parallel to queue
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
	crypto := StreamCrypto(nc)
	if m, ok := nc.(*mse.Conn); ok {
		// The socket itself when nothing is left to decrypt or replay, so
		// that the raw system call path applies.
		nc = m.Unwrap()
	}
	c := &Conn{
		Addr:      AddrOf(nc.RemoteAddr()),
		Handshake: remote,
		Outgoing:  outgoing,
		Encrypted: crypto == CryptoRC4,
		Crypto:    crypto,
		Transport: TransportOf(nc),
		nc:        nc,
		cfg:       cfg,
		events:    events,
		done:      done,
		wakeC:     make(chan struct{}, 1),
		closeC:    make(chan struct{}),
	}
	c.raw = rawio.New(nc)
	go c.readLoop()
	go c.writeLoop()
	return c
}

// TransportOf names the transport protocol under nc: "utp" when its local
// address's network is uTP, "tcp" otherwise (a TCP socket, or a stream
// through a SOCKS5 proxy, which carries TCP only).
func TransportOf(nc net.Conn) string {
	if m, ok := nc.(*mse.Conn); ok {
		nc = m.Conn
	}
	if _, ok := nc.RemoteAddr().(*net.UDPAddr); ok {
		return "utp" // a uTP connection: a stream over UDP
	}
	if a := nc.LocalAddr(); a != nil && a.Network() == "utp" {
		return "utp"
	}
	return "tcp"
}

// AddrOf converts a net.Addr of a TCP connection to a netip.AddrPort.
func AddrOf(a net.Addr) netip.AddrPort {
	switch ta := a.(type) {
	case *net.TCPAddr:
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	case *net.UDPAddr:
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
func (c *Conn) Send(m wire.Message) bool { return c.SendRelease(m, nil) }

// SendRelease is Send for a message whose buffers the caller wants back:
// release (if not nil) is called once the message has been written to the
// socket, or when it is dropped unsent (cancelled, queue full, connection
// closed). A message still queued when the connection closes may instead be
// left to the garbage collector. release must not block.
func (c *Conn) SendRelease(m wire.Message, release func()) bool {
	select {
	case <-c.closeC:
		if release != nil {
			release()
		}
		return false
	default:
	}
	size := 13 + len(m.Block) + len(m.Bitfield) + len(m.Payload)
	c.mu.Lock()
	if c.queued+size > c.cfg.MaxQueuedBytes {
		c.mu.Unlock()
		if release != nil {
			release()
		}
		c.CloseWith(ErrSendQueueFull)
		return false
	}
	c.queue = append(c.queue, m)
	c.rel = append(c.rel, release)
	c.queued += size
	c.mu.Unlock()
	select {
	case c.wakeC <- struct{}{}:
	default:
	}
	return true
}

// QueuedBytes returns the bytes waiting in the send queue.
func (c *Conn) QueuedBytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queued
}

// RemoveQueued drops queued but unsent messages for which drop returns true
// (e.g. a piece the peer cancelled) and returns how many were dropped.
func (c *Conn) RemoveQueued(drop func(*wire.Message) bool) int {
	var released []func()
	c.mu.Lock()
	n := 0
	kept := c.queue[:0]
	keptRel := c.rel[:0]
	for i := range c.queue {
		if drop(&c.queue[i]) {
			c.queued -= 13 + len(c.queue[i].Block) + len(c.queue[i].Bitfield) + len(c.queue[i].Payload)
			if c.rel[i] != nil {
				released = append(released, c.rel[i])
			}
			n++
			continue
		}
		kept = append(kept, c.queue[i])
		keptRel = append(keptRel, c.rel[i])
	}
	clear(c.queue[len(kept):])
	clear(c.rel[len(keptRel):])
	c.queue, c.rel = kept, keptRel
	c.mu.Unlock()
	callAll(released)
	return n
}

// dropQueue releases everything still queued (the connection is closing).
func (c *Conn) dropQueue() {
	c.mu.Lock()
	rel := c.rel
	c.rel = nil
	clear(c.queue)
	c.queue = c.queue[:0]
	c.queued = 0
	c.mu.Unlock()
	callAll(rel)
}

func callAll(fns []func()) {
	for _, f := range fns {
		if f != nil {
			f()
		}
	}
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

// PutBlock returns the Block of a received Piece message to the block pool
// (blockpool.Put) for reuse. The caller must not touch the slice
// afterwards.
func PutBlock(b []byte) { blockpool.Put(b) }

// The pool's blocks are the protocol's blocks.
const _ = uint(wire.BlockSize-blockpool.Size) + uint(blockpool.Size-wire.BlockSize)

func (c *Conn) readLoop() {
	var src vecReader = plainVec{c.nc}
	if c.raw != nil {
		src = c.raw
	}
	mr := newMsgReader(src)
	defer mr.release()
	var err error
	var armed time.Time // when the read deadline was last pushed back
	// Moving a deadline resets a runtime timer; at full speed that would
	// be tens of thousands of times a second. Push it back at most every
	// rearm (a second, or a quarter of a short ReadTimeout): an idle peer
	// still times out between 3/4 and all of the ReadTimeout after its
	// last message.
	rearm := min(time.Second, c.cfg.ReadTimeout/4)
	ev := Event{Conn: c}
	held := false // ev holds a message not yet delivered
	for {
		if !held {
			if now := time.Now(); now.Sub(armed) >= rearm {
				c.nc.SetReadDeadline(now.Add(c.cfg.ReadTimeout))
				armed = now
			}
		}
		var m wire.Message
		m, err = mr.next()
		if err != nil {
			break
		}
		if !m.KeepAlive {
			c.own(&m)
			switch {
			case !held:
				ev.Msg, held = m, true
			case ev.More == nil:
				ev.More = append(getBatch(), m)
			default:
				ev.More = append(ev.More, m)
			}
		}
		if !held || len(ev.More) < maxBatch-1 && mr.ready() {
			continue // more is in memory: deliver it along
		}
		if !c.deliver(ev) {
			c.Close()
			return
		}
		ev, held = Event{Conn: c}, false
	}
	if held && !c.deliver(ev) {
		c.Close()
		return
	}
	c.CloseWith(fmt.Errorf("read: %w", err))
	c.deliver(Event{Conn: c, Err: c.reason(err)})
}

// own makes m the owner's: the codec's slices alias the reader's buffer and
// are copied (piece blocks are already the owner's, from the pool), and a
// block's bytes are counted, after the rate limiter lets them pass.
func (c *Conn) own(m *wire.Message) {
	switch {
	case m.Block != nil:
		if c.cfg.Limiter != nil {
			c.cfg.Limiter.WaitRead(len(m.Block), c.closeC)
		}
		c.downloaded.Add(int64(len(m.Block)))
	case m.Bitfield != nil:
		m.Bitfield = append([]byte(nil), m.Bitfield...)
	case m.Payload != nil:
		m.Payload = append([]byte(nil), m.Payload...)
	}
}

// segment is one piece of an outgoing batch: a range of the scratch buffer
// (encoded frames and piece headers) or a block sent without copying.
type segment struct {
	from, to int
	block    []byte
}

// vecWriter is a connection that writes a batch of buffers at once (an
// encrypted stream, mse.Conn), which net.Buffers would write one by one.
type vecWriter interface {
	WriteVec(bufs [][]byte) (int64, error)
}

func (c *Conn) writeLoop() {
	keep := time.NewTimer(c.cfg.KeepAlive)
	defer keep.Stop()
	var scratch []byte
	var batch []wire.Message
	var batchRel []func()
	var segs []segment
	var bufs net.Buffers
	defer c.dropQueue()
	for {
		select {
		case <-c.closeC:
			return
		case <-keep.C:
			batch = append(batch[:0], wire.Message{KeepAlive: true})
		case <-c.wakeC:
			c.mu.Lock()
			batch = append(batch[:0], c.queue...)
			batchRel = append(batchRel[:0], c.rel...)
			clear(c.queue)
			clear(c.rel)
			c.queue, c.rel = c.queue[:0], c.rel[:0]
			c.queued = 0
			c.mu.Unlock()
		}
		// Encode control messages and piece headers into scratch; blocks
		// are passed to writev as they are.
		scratch, segs = scratch[:0], segs[:0]
		var payload int64
		for i := range batch {
			m := &batch[i]
			from := len(scratch)
			if m.ID == wire.Piece && !m.KeepAlive {
				if c.cfg.Limiter != nil {
					c.cfg.Limiter.WaitWrite(len(m.Block), c.closeC)
				}
				scratch = wire.AppendPieceHeader(scratch, m.Index, m.Begin, len(m.Block))
				segs = append(segs, segment{from: from, to: len(scratch)}, segment{block: m.Block})
				payload += int64(len(m.Block))
				continue
			}
			scratch = m.AppendTo(scratch)
			if n := len(segs); n > 0 && segs[n-1].block == nil && segs[n-1].to == from {
				segs[n-1].to = len(scratch) // merge adjacent frames
			} else {
				segs = append(segs, segment{from: from, to: len(scratch)})
			}
		}
		clear(batch)
		bufs = bufs[:0]
		for _, sg := range segs {
			if sg.block != nil {
				bufs = append(bufs, sg.block)
			} else {
				bufs = append(bufs, scratch[sg.from:sg.to])
			}
		}
		c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
		var err error
		if c.raw != nil {
			_, err = c.raw.WriteVec(bufs)
		} else if vw, ok := c.nc.(vecWriter); ok {
			_, err = vw.WriteVec(bufs)
		} else {
			_, err = bufs.WriteTo(c.nc)
		}
		// The bytes are in the kernel (or lost): the buffers may go back.
		clear(bufs)
		callAll(batchRel)
		clear(batchRel)
		batchRel = batchRel[:0]
		if err != nil {
			c.CloseWith(fmt.Errorf("write: %w", err))
			return
		}
		c.uploaded.Add(payload)
		if !keep.Stop() {
			select {
			case <-keep.C:
			default:
			}
		}
		keep.Reset(c.cfg.KeepAlive)
	}
}
