package netem

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dir is one direction of a node's link. Its fields other than the
// counters belong to the loop goroutine.
type dir struct {
	nextFree int64 // ns: when the serializer is free
	lastOut  int64 // ns: latest exit time handed out, for FIFO order
	queued   int   // bytes waiting for the serializer
	fifo     []qent
	head     int
	rng      *rand.Rand

	packets, bytes, queueDrops, lossDrops, otherDrops atomic.Int64
}

// qent is a packet in a queue: when it leaves the serializer, and its size.
type qent struct {
	dep  int64
	size int
}

func (d *dir) init(seed uint64, stream uint64) {
	d.rng = rand.New(rand.NewPCG(seed, stream))
}

func (d *dir) stats() DirStats {
	return DirStats{
		Packets:    d.packets.Load(),
		Bytes:      d.bytes.Load(),
		QueueDrops: d.queueDrops.Load(),
		LossDrops:  d.lossDrops.Load(),
		OtherDrops: d.otherDrops.Load(),
	}
}

// pass sends a packet of size bytes entering the direction at time t (ns)
// through it, and returns when it leaves the far end, or false when it is
// dropped.
func (d *dir) pass(t int64, size int, rate int64, qlimit int, loss float64, delay time.Duration) (int64, bool) {
	dep := t
	if rate > 0 {
		for d.head < len(d.fifo) && d.fifo[d.head].dep <= t {
			d.queued -= d.fifo[d.head].size
			d.head++
		}
		if d.head == len(d.fifo) {
			d.fifo, d.head = d.fifo[:0], 0
		} else if d.head > 1024 && d.head*2 > len(d.fifo) {
			n := copy(d.fifo, d.fifo[d.head:])
			d.fifo, d.head = d.fifo[:n], 0
		}
		if d.queued > 0 && d.queued+size > qlimit {
			d.queueDrops.Add(1)
			return 0, false
		}
		dep = max(t, d.nextFree) + int64(size)*8*int64(time.Second)/rate
		d.nextFree = dep
		d.queued += size
		d.fifo = append(d.fifo, qent{dep, size})
	}
	// A lost packet has used the serializer: it is lost on the wire.
	if loss > 0 && d.rng.Float64() < loss {
		d.lossDrops.Add(1)
		return 0, false
	}
	out := max(dep+int64(delay), d.lastOut)
	d.lastOut = out
	d.packets.Add(1)
	d.bytes.Add(int64(size))
	return out, true
}

// packet is a packet held by the emulator.
type packet struct {
	buf  []byte
	n    int
	at   int64 // ns since Start: when the next step is due
	seq  uint64
	src  *Node
	dst  *Node
	down bool // the packet has passed the uplink and waits for the downlink
}

// pheap is a binary min-heap of packets by (at, seq).
type pheap []*packet

func (h pheap) less(i, j int) bool {
	return h[i].at < h[j].at || h[i].at == h[j].at && h[i].seq < h[j].seq
}

func (h *pheap) push(p *packet) {
	*h = append(*h, p)
	s := *h
	i := len(s) - 1
	for i > 0 {
		par := (i - 1) / 2
		if !s.less(i, par) {
			break
		}
		s[i], s[par] = s[par], s[i]
		i = par
	}
}

func (h *pheap) pop() *packet {
	s := *h
	p := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = nil
	s = s[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(s) {
			break
		}
		m := l
		if r := l + 1; r < len(s) && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return p
}

// loopState is the loop goroutine's own state.
type loopState struct {
	n      *Network
	heap   pheap
	free   []*packet
	seq    uint64
	held   int // packets in the heap
	bufLen int
}

func (s *loopState) get() *packet {
	if k := len(s.free); k > 0 {
		p := s.free[k-1]
		s.free = s.free[:k-1]
		return p
	}
	return &packet{buf: make([]byte, s.bufLen)}
}

func (s *loopState) put(p *packet) {
	p.src, p.dst = nil, nil
	if len(s.free) < 4096 {
		s.free = append(s.free, p)
	}
}

func (n *Network) now() int64 { return int64(time.Since(n.start)) }

// loop is the emulator: it reads packets from every TUN device and moves
// them through the links until Close signals the eventfd.
func (n *Network) loop(ready chan<- struct{}) {
	runtime.LockOSThread() // for CPU accounting; the thread exits with us
	tid := unix.Gettid()
	if t, err := threadCPU(tid); err == nil {
		n.cpuStart.Store(t)
	}
	n.tid.Store(int64(tid))
	close(ready)
	defer close(n.done)
	defer func() {
		if t, err := threadCPU(tid); err == nil {
			n.cpuEnd.Store(t)
		} else {
			n.cpuEnd.Store(n.cpuStart.Load())
		}
	}()

	s := &loopState{n: n, bufLen: n.cfg.MTU + 64}
	events := make([]unix.EpollEvent, 128)
	pwait2 := true
	for {
		now := n.now()
		for len(s.heap) > 0 && s.heap[0].at <= now {
			s.step(s.heap.pop())
		}
		timeout := int64(-1)
		if len(s.heap) > 0 {
			timeout = s.heap[0].at - now
		}
		k, err := epollWait(n.epfd, events, timeout, &pwait2)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return // the epoll fd is gone: nothing more can be done
		}
		now = n.now()
		nodes := *n.nodes.Load()
		for _, ev := range events[:k] {
			if ev.Fd < 0 {
				var b [8]byte
				unix.Read(n.evfd, b[:])
				return
			}
			if int(ev.Fd) < len(nodes) {
				s.readFrom(nodes, nodes[ev.Fd], now)
			}
		}
	}
}

// readFrom reads up to a batch of packets from node src's TUN device and
// puts each through src's uplink.
func (s *loopState) readFrom(nodes []*Node, src *Node, now int64) {
	for range 64 {
		p := s.get()
		m, err := unix.Read(src.fd, p.buf)
		if err != nil || m <= 0 {
			s.put(p)
			return
		}
		p.n = m
		buf := p.buf[:m]
		if m < 20 || buf[0]>>4 != 4 {
			src.up.otherDrops.Add(1)
			s.put(p)
			continue
		}
		dst := s.n.nodeByAddr(nodes, [4]byte(buf[16:20]))
		if dst == nil || s.held >= maxInFlight {
			src.up.otherDrops.Add(1)
			s.put(p)
			continue
		}
		l := src.link.Load()
		at, ok := src.up.pass(now, m, l.UpRate, l.queueLimit(l.UpRate), l.Loss, l.Delay)
		if !ok {
			s.put(p)
			continue
		}
		p.src, p.dst, p.down, p.at = src, dst, false, at
		s.seq++
		p.seq = s.seq
		s.heap.push(p)
		s.held++
	}
}

// step moves a packet whose time has come: into its downlink, or out to
// its destination.
func (s *loopState) step(p *packet) {
	s.held--
	dst := p.dst
	if !p.down {
		l := dst.link.Load()
		at, ok := dst.down.pass(p.at, p.n, l.DownRate, l.queueLimit(l.DownRate), l.Loss, l.Delay)
		if !ok {
			s.put(p)
			return
		}
		p.down, p.at = true, at
		s.seq++
		p.seq = s.seq
		s.heap.push(p)
		s.held++
		return
	}
	if _, err := unix.Write(dst.fd, p.buf[:p.n]); err != nil {
		dst.down.otherDrops.Add(1)
	}
	s.put(p)
}

// epollWait waits for events for at most timeout ns (negative: forever),
// with nanosecond precision where epoll_pwait2 exists.
func epollWait(epfd int, events []unix.EpollEvent, timeout int64, pwait2 *bool) (int, error) {
	if *pwait2 {
		var tsp *unix.Timespec
		var ts unix.Timespec
		if timeout >= 0 {
			ts = unix.NsecToTimespec(timeout)
			tsp = &ts
		}
		r, _, e := unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])),
			uintptr(len(events)), uintptr(unsafe.Pointer(tsp)), 0, 0)
		if e == 0 {
			return int(r), nil
		}
		if e != unix.ENOSYS {
			return 0, e
		}
		*pwait2 = false
	}
	ms := -1
	if timeout >= 0 {
		ms = int((timeout + int64(time.Millisecond) - 1) / int64(time.Millisecond))
	}
	return unix.EpollWait(epfd, events, ms)
}
