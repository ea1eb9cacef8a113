// Package dht implements a Mainline DHT node (BEP 5, with the IPv6
// extension of BEP 32): the KRPC protocol over UDP (ping, find_node,
// get_peers, announce_peer), a Kademlia routing table of k-buckets, a token
// scheme for announces, a bounded peer store and iterative lookups.
//
// # State and concurrency
//
// A Server is safe for concurrent use. Its state is split into small parts,
// each guarded by its own mutex and never held while doing I/O:
//   - the routing table (Server.mu): a pure data structure (table.go) with no
//     I/O; the server turns its decisions ("ping this questionable node")
//     into queries;
//   - outstanding transactions (Server.txMu): transaction ID to the waiting
//     query; a response is delivered only if it comes from the address the
//     query was sent to;
//   - the peer store (peerStore.mu) and the per-source rate limiter
//     (rateLimiter.mu);
//   - the token secrets (tokens.mu).
//
// Lock order: Server.mu may be taken before peerStore.mu or tokens.mu; no
// other nesting exists.
//
// One reader goroutine (started by Start, unless the caller feeds packets
// through HandlePacket) decodes packets and answers queries inline; each
// outgoing query is waited for by the goroutine that sent it. A maintenance
// goroutine refreshes buckets, pings questionable nodes, rotates the token
// secret and expires stored peers.
//
// # Invariants
//
//   - Every node in the routing table has answered one of our queries at
//     least once; nodes learned from "nodes" lists are only candidates of a
//     lookup until they answer. Our own ID and port 0 are never stored.
//   - Only the bucket that contains our own ID is ever split, so the table
//     holds at most 160 buckets of K nodes plus K replacement candidates each.
//   - Outstanding queries are capped (MaxOutstanding), stored peers are
//     capped per info hash and overall, the rate limiter's table is capped,
//     and packets larger than MaxPacketSize are dropped unread.
//   - Input from the network never panics the server: undecodable packets are
//     dropped, malformed queries get a 203 error, unknown methods 204.
package dht
