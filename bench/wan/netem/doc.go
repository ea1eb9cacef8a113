// Package netem is a userspace link emulator for the WAN-shaped swarm
// benchmark (bench/wan). This kernel has no netem qdisc, so delay, loss,
// rate and finite queues are emulated in Go on packets read from TUN
// devices.
//
// Every node lives in a network namespace of its own (named
// <Prefix>-p<pid>n<k>-<name>) whose only interface besides lo is a TUN
// device, tun0, holding the node's IPv4 address in Config.Subnet and the
// default route. The benchmark process keeps the TUN file descriptors; one
// event loop on one locked OS thread reads every packet a node sends,
// passes it through the sender's uplink and then the receiver's downlink,
// and writes it into the receiver's TUN device by destination address.
// Packets to unknown addresses are dropped silently.
//
// Each direction of a Link is modelled as a drop-tail queue in front of a
// serializer: a packet arriving at time t leaves at
// max(t, previous departure) + size·8/rate, where size is the whole IPv4
// packet (no Ethernet framing is counted). While it waits it occupies the
// queue; a packet that would overflow QueueBytes is dropped. A packet that
// left the serializer is then lost with probability Loss (from a
// per-direction PCG seeded from Config.Seed, so a run's loss pattern per
// link is reproducible) and otherwise arrives Delay later. The downlink
// sees packets in the order they arrive from every uplink. Delivery per
// direction is FIFO, also across SetLink changes. The loop computes every
// time in virtual time from the moment a packet was read, so its own
// scheduling latency delays a packet but never changes the rate.
//
// Each namespace gets IPv6 disabled, Config.Congestion as
// net.ipv4.tcp_congestion_control, tcp_rmem/tcp_wmem maxima of
// Config.SocketBuffer, and tcp_no_metrics_save=1 so one connection's
// measurements do not leak into the next.
//
// CPU accounting: the loop runs on one locked OS thread; Network.CPU reads
// that thread's CPU clock. It includes the kernel work done when a packet is
// written into a TUN device, which on this kernel runs the receiving
// namespace's IP and TCP input in the writer's context.
//
// It needs root, /dev/net/tun and the ip(8) program; Available says what
// is missing. Close removes every namespace the Network made, and New
// removes namespaces of the same Prefix left by processes that are gone.
package netem
