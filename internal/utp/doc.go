// Package utp implements the uTorrent transport protocol (BEP 29): reliable,
// ordered byte streams over UDP whose congestion control, LEDBAT, yields to
// other traffic by keeping the queuing delay it adds near targetDelay.
//
// A Socket serves many connections over one net.PacketConn: it finds a
// packet's connection by the sender's address and connection id, accepts
// SYNs into a bounded backlog, and answers packets of unknown connections
// with rate-limited RESETs. Datagrams that are not uTP (the DHT's bencoded
// messages) are handed to the PacketConn returned by Other, so the DHT and
// uTP share the peer port. A Conn is a net.Conn with deadlines.
//
// What is implemented of BEP 29 and around it:
//   - packets of version 1 (ST_DATA, ST_FIN, ST_STATE, ST_RESET, ST_SYN),
//     the extension chain with selective ACKs (extension 1; of any
//     length, as libtorrent sends them, not only BEP 29's multiples of
//     4 bytes; gobit sends 32 bytes at most, 252 to a peer that
//     announced extMaxPacket, so that on a long fat path everything
//     that arrived behind a loss is reported), connection ids recv/send
//     = id/id+1, timestamps and their differences;
//   - LEDBAT (ledbat.go): slow start until a queue builds, then growth of
//     at most maxGainPerRTT per round trip below the target delay and
//     shrinking above it; the base delay is the minimum over baseHistory
//     minutes;
//   - loss: dupAckLimit duplicate ACKs, or as many selectively acked
//     packets after a hole that were sent after its last transmission
//     (so a retransmission lost again is found too), mark a packet
//     lost; the first loss of a window is sent again at once (past the
//     window just cut), and the window shrinks once per window of data
//     (halved behind a queue of the target or more, by
//     randomLossFactor below it: random loss is not congestion; halved
//     after all when a run of burstLoss losses shows a queue too shallow
//     to show a delay);
//   - timeouts from RTT and RTT variance (at least minRTO, and rtoMargin
//     above the round trip; doubling on each timeout), after which the
//     window restarts at one packet; after a first timeout only the
//     oldest packet goes again, and when the next ACK acknowledges
//     packets sent once the timeout was spurious and the window comes
//     back (F-RTO, RFC 5682);
//   - packets of safePacket bytes, which cross any IPv4 or IPv6 path, to
//     begin with; then path-MTU discovery (where the platform lets the
//     don't-fragment bit be controlled, Linux): one probe at a time, a
//     data packet of up to maxPacket4/maxPacket6 bytes sent with
//     don't-fragment set, a binary search down on lost probes (or
//     EMSGSIZE) until within mtuStep; a lost probe is not congestion and
//     goes again fragmentable; two timeouts in a row fall back to
//     safePacket. On loopback, between peers that announce it with
//     gobit's extMaxPacket extension, packets of up to loopbackPacket
//     bytes;
//   - the receive window: wnd_size is the free receive buffer, the peer's
//     is respected, and a zero window is probed after zeroWindowProbe;
//     packets up to maxAhead past a hole are kept (within the window),
//     beyond the selective ACK's 256;
//   - FIN (io.EOF after the data before it), RESET (ECONNRESET),
//     keepalives, and Nagle: a partial packet waits while data is in
//     flight.
//
// A Socket runs on any net.PacketConn: a UDP socket, or a SOCKS5 proxy's
// UDP association (whose datagrams the proxy relays); when the path under
// it is lost, Abort fails its connections and leaves it open for new ones.
//
// Two goroutines serve a Socket whatever the number of connections: the
// reader, which handles the packets as they arrive (on Linux up to
// batchSize of them per recvmmsg(2), under one lock, with one ACK per
// connection per batch), and an event loop that runs the connections'
// timers from one heap. Every buffer is bounded (Config).
package utp
