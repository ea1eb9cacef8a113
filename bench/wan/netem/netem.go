package netem

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Link describes the access link of one node: its rate in each direction,
// the one-way delay, random loss and the drop-tail queue.
type Link struct {
	// UpRate and DownRate are in bits per second; 0 means unlimited (no
	// queue, no serialization delay).
	UpRate, DownRate int64
	// Delay is the one-way delay added in each direction of this link, so
	// the round trip between nodes A and B is 2·(A.Delay+B.Delay).
	Delay time.Duration
	// Loss is the probability, 0 to 1, that a packet is dropped; it is
	// applied independently on each direction of this link.
	Loss float64
	// QueueBytes is the drop-tail queue limit per direction, in bytes of
	// IPv4 packets waiting to be serialized. 0 selects
	// max(256 KiB, 1.5 × rate × 2·Delay / 8).
	QueueBytes int
}

// queueLimit returns the queue limit in bytes for a direction of rate bits
// per second.
func (l Link) queueLimit(rate int64) int {
	if l.QueueBytes > 0 {
		return l.QueueBytes
	}
	q := 256 << 10
	if rate > 0 && l.Delay > 0 {
		bdp := float64(rate) / 8 * 2 * l.Delay.Seconds() * 1.5
		if bdp > float64(q) {
			q = int(min(bdp, 1<<30))
		}
	}
	return q
}

// Config configures a Network. The zero value selects every default.
type Config struct {
	// Prefix starts every namespace name; default "gobitwan".
	Prefix string
	// Subnet holds the nodes' IPv4 addresses, given in order from its
	// first host address; default 10.77.0.0/16.
	Subnet netip.Prefix
	// MTU of every TUN device; default 1500. A larger MTU (9000) cuts the
	// number of packets, and so the emulator's CPU, for bulk transfers.
	MTU int
	// Seed seeds the loss random number generators.
	Seed uint64
	// Congestion is net.ipv4.tcp_congestion_control in every namespace;
	// default "bbr".
	Congestion string
	// SocketBuffer is the maximum of net.ipv4.tcp_rmem and tcp_wmem in
	// every namespace, in bytes; default 16 MiB, enough for
	// 200 Mbit/s × 240 ms with headroom. Negative leaves the kernel's
	// defaults.
	SocketBuffer int
}

const (
	maxNodeName = 32
	maxInFlight = 1 << 17 // packets held by the emulator at once
)

// Network is a set of nodes, each in its own network namespace behind its
// own Link, joined by one emulator event loop. Its methods are safe for
// concurrent use.
type Network struct {
	cfg    Config
	unique string // per-Network namespace prefix, ends without "-"
	base   netip.Addr

	mu      sync.Mutex
	nodes   atomic.Pointer[[]*Node] // copy on write; index = address offset - 1
	names   map[string]bool
	started bool
	closed  bool

	epfd  int
	evfd  int
	done  chan struct{}
	start time.Time

	tid      atomic.Int64 // the loop thread's id, 0 before Start
	cpuStart atomic.Int64 // thread CPU ns at loop start
	cpuEnd   atomic.Int64 // thread CPU ns when the loop stopped, -1 while running
}

// Node is one endpoint of the network: a namespace, its address and its
// link.
type Node struct {
	// Name is the name given to AddNode.
	Name string
	// NS is the network namespace's name, as ip netns knows it.
	NS string
	// Addr is the node's IPv4 address.
	Addr netip.Addr

	idx  int
	fd   int // TUN device, nonblocking, owned by the Network
	link atomic.Pointer[Link]
	up   dir
	down dir
}

// DirStats counts the packets of one direction of a link.
type DirStats struct {
	// Packets and Bytes passed this direction (not dropped here).
	Packets, Bytes int64
	// QueueDrops were dropped because the queue was full.
	QueueDrops int64
	// LossDrops were dropped by random loss.
	LossDrops int64
	// OtherDrops were dropped for another reason: unknown destination or
	// not IPv4 (uplink), emulator overflow, or a failed write into the
	// receiver's TUN device (downlink).
	OtherDrops int64
}

// LinkStats is the traffic of one node's link.
type LinkStats struct {
	Node string
	Addr netip.Addr
	// Up counts packets the node sent; Down packets sent to it.
	Up, Down DirStats
}

var netCounter atomic.Int64

// Available reports why a Network cannot be made here, or nil when it can:
// it needs root, /dev/net/tun and the ip program.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("netem: needs root (network namespaces and TUN devices)")
	}
	f, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("netem: cannot open /dev/net/tun: %w", err)
	}
	f.Close()
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("netem: the ip program (iproute2) is not installed")
	}
	return nil
}

// New makes an empty Network. It removes namespaces with the same Prefix
// left behind by processes that no longer run.
func New(cfg Config) (*Network, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "gobitwan"
	}
	for _, c := range cfg.Prefix {
		if !nameChar(c) {
			return nil, fmt.Errorf("netem: prefix %q: only letters, digits, '_' and '-' allowed", cfg.Prefix)
		}
	}
	if len(cfg.Prefix) > 64 {
		return nil, fmt.Errorf("netem: prefix %q too long", cfg.Prefix)
	}
	if !cfg.Subnet.IsValid() {
		cfg.Subnet = netip.MustParsePrefix("10.77.0.0/16")
	}
	cfg.Subnet = cfg.Subnet.Masked()
	if !cfg.Subnet.Addr().Is4() || cfg.Subnet.Bits() > 30 || cfg.Subnet.Bits() < 8 {
		return nil, fmt.Errorf("netem: subnet %v: need IPv4 with a prefix length of 8 to 30", cfg.Subnet)
	}
	if cfg.MTU == 0 {
		cfg.MTU = 1500
	}
	if cfg.MTU < 576 || cfg.MTU > 65535 {
		return nil, fmt.Errorf("netem: MTU %d outside 576..65535", cfg.MTU)
	}
	if cfg.Congestion == "" {
		cfg.Congestion = "bbr"
	}
	if cfg.SocketBuffer == 0 {
		cfg.SocketBuffer = 16 << 20
	}
	if err := Available(); err != nil {
		return nil, err
	}
	removeStale(cfg.Prefix)
	n := &Network{
		cfg:    cfg,
		unique: fmt.Sprintf("%s-p%dn%d", cfg.Prefix, os.Getpid(), netCounter.Add(1)),
		base:   cfg.Subnet.Addr(),
		names:  map[string]bool{},
		epfd:   -1,
		evfd:   -1,
		done:   make(chan struct{}),
	}
	n.cpuEnd.Store(-1)
	empty := []*Node{}
	n.nodes.Store(&empty)
	// A namespace from an earlier Network of this process with the same
	// name cannot exist (the counter is unique), but one of a dead process
	// with a recycled pid could: removeStale skips live pids, so clear our
	// own prefix too.
	removePrefix(n.unique + "-")
	var err error
	if n.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("netem: epoll: %w", err)
	}
	if n.evfd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		unix.Close(n.epfd)
		return nil, fmt.Errorf("netem: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: -1}
	if err := unix.EpollCtl(n.epfd, unix.EPOLL_CTL_ADD, n.evfd, &ev); err != nil {
		unix.Close(n.epfd)
		unix.Close(n.evfd)
		return nil, fmt.Errorf("netem: epoll: %w", err)
	}
	return n, nil
}

func nameChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// Config returns the Network's configuration with its defaults filled in.
func (n *Network) Config() Config { return n.cfg }

// Nodes returns the nodes in the order they were added.
func (n *Network) Nodes() []*Node {
	return append([]*Node(nil), *n.nodes.Load()...)
}

// AddNode makes a namespace for a node named name (letters, digits, '_'
// and '-', unique in the Network) behind link l, and gives it the next
// address of the subnet. It may be called before and after Start.
func (n *Network) AddNode(name string, l Link) (*Node, error) {
	if name == "" || len(name) > maxNodeName {
		return nil, fmt.Errorf("netem: node name %q: need 1 to %d characters", name, maxNodeName)
	}
	for _, c := range name {
		if !nameChar(c) {
			return nil, fmt.Errorf("netem: node name %q: only letters, digits, '_' and '-' allowed", name)
		}
	}
	if err := checkLink(l); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, errors.New("netem: network closed")
	}
	if n.names[name] {
		return nil, fmt.Errorf("netem: node %q exists", name)
	}
	old := *n.nodes.Load()
	idx := len(old)
	addr, ok := n.addrAt(idx)
	if !ok {
		return nil, fmt.Errorf("netem: subnet %v is full", n.cfg.Subnet)
	}
	nd := &Node{Name: name, NS: n.unique + "-" + name, Addr: addr, idx: idx, fd: -1}
	nd.link.Store(&l)
	seed := n.cfg.Seed ^ uint64(idx+1)*0x9E3779B97F4A7C15
	nd.up.init(seed, 1)
	nd.down.init(seed, 2)
	if err := n.setupNode(nd); err != nil {
		if nd.fd >= 0 {
			unix.Close(nd.fd)
		}
		deleteNS(nd.NS)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(idx)}
	if err := unix.EpollCtl(n.epfd, unix.EPOLL_CTL_ADD, nd.fd, &ev); err != nil {
		unix.Close(nd.fd)
		deleteNS(nd.NS)
		return nil, fmt.Errorf("netem: epoll: %w", err)
	}
	nodes := make([]*Node, idx+1)
	copy(nodes, old)
	nodes[idx] = nd
	n.nodes.Store(&nodes)
	n.names[name] = true
	return nd, nil
}

// addrAt returns the address of node number idx.
func (n *Network) addrAt(idx int) (netip.Addr, bool) {
	b := n.base.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	size := uint64(1) << (32 - n.cfg.Subnet.Bits())
	off := uint64(idx) + 1
	if off >= size-1 { // keep the broadcast address free
		return netip.Addr{}, false
	}
	v += uint32(off)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// nodeByAddr returns the node with IPv4 address a (big-endian), or nil.
func (n *Network) nodeByAddr(nodes []*Node, a [4]byte) *Node {
	b := n.base.As4()
	base := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	off := v - base - 1
	if v <= base || uint64(off) >= uint64(len(nodes)) {
		return nil
	}
	return nodes[off]
}

func checkLink(l Link) error {
	if l.UpRate < 0 || l.DownRate < 0 || l.Delay < 0 || l.QueueBytes < 0 || !(l.Loss >= 0 && l.Loss <= 1) {
		return fmt.Errorf("netem: invalid link %+v", l)
	}
	if l.Delay > time.Minute {
		return fmt.Errorf("netem: link delay %v over a minute", l.Delay)
	}
	return nil
}

// SetLink changes node's link from now on. Packets already past a queue
// keep their times; delivery stays FIFO. An invalid link is ignored.
func (n *Network) SetLink(node *Node, l Link) {
	if node == nil || checkLink(l) != nil {
		return
	}
	node.link.Store(&l)
}

// Link returns the node's current link.
func (nd *Node) Link() Link { return *nd.link.Load() }

// Start starts the emulator loop.
func (n *Network) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("netem: network closed")
	}
	if n.started {
		return errors.New("netem: already started")
	}
	n.started = true
	n.start = time.Now()
	ready := make(chan struct{})
	go n.loop(ready)
	<-ready
	return nil
}

// Close stops the loop, closes the TUN devices and removes every namespace
// of the Network. Processes still running in a namespace keep it alive
// until they exit, but its name is gone. Close is idempotent.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	started := n.started
	n.mu.Unlock()
	if started {
		var one = [8]byte{1}
		unix.Write(n.evfd, one[:])
		select {
		case <-n.done:
		case <-time.After(10 * time.Second):
			return errors.New("netem: emulator loop did not stop")
		}
	}
	for _, nd := range *n.nodes.Load() {
		unix.Close(nd.fd)
	}
	unix.Close(n.epfd)
	unix.Close(n.evfd)
	return removePrefix(n.unique + "-")
}

// Stats returns the traffic of every node's link, in node order.
func (n *Network) Stats() []LinkStats {
	nodes := *n.nodes.Load()
	out := make([]LinkStats, len(nodes))
	for i, nd := range nodes {
		out[i] = LinkStats{Node: nd.Name, Addr: nd.Addr, Up: nd.up.stats(), Down: nd.down.stats()}
	}
	return out
}

// CPU returns the CPU time (user and system) the emulator loop's thread
// used since Start, including the kernel's input processing of the packets
// it writes into TUN devices. It is 0 before Start.
func (n *Network) CPU() time.Duration {
	tid := n.tid.Load()
	if tid == 0 {
		return 0
	}
	if end := n.cpuEnd.Load(); end >= 0 {
		return time.Duration(end - n.cpuStart.Load())
	}
	t, err := threadCPU(int(tid))
	if err != nil {
		return 0
	}
	return time.Duration(t - n.cpuStart.Load())
}

// threadCPU returns the CPU time of thread tid of this process, in ns.
func threadCPU(tid int) (int64, error) {
	// MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED) from the kernel's
	// posix-timers.h.
	clk := int32((^tid)<<3 | 6)
	var ts unix.Timespec
	if err := unix.ClockGettime(clk, &ts); err != nil {
		return 0, err
	}
	return ts.Nano(), nil
}

// Command returns a command that runs name with args in the node's
// namespace (through ip netns exec).
func (nd *Node) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", nd.NS, name}, args...)...)
}

// Run runs fn on a locked OS thread inside the node's namespace and
// returns its error. Sockets fn creates belong to the namespace and stay
// there when used from other goroutines afterwards; goroutines fn starts
// run in the process's own namespace.
func (nd *Node) Run(fn func() error) error {
	return inNS(nd.NS, fn)
}
