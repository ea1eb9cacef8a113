// Package tracker implements gobit's BitTorrent tracker clients: HTTP
// announces (BEP 3) with compact IPv4 and IPv6 peer lists (BEP 23, BEP 7),
// UDP announces (BEP 15), scrapes over both (BEP 48, BEP 15) and periodic
// announcing to every tier of a torrent (BEP 12). ClientConfig.IPVersion
// limits trackers and the peers they return to one IP version; HTTP
// announces carry our global IPv6 address as "ipv6=" (BEP 7) when
// Client.SetIPv6Source gives one.
//
// # Ownership and concurrency
//
// A [Client] is shared by the whole session and is safe for concurrent use.
// Its mutable state is small and guarded by mutexes inside the Client: the
// UDP connection-ID cache and the table of UDP requests waiting for an
// answer. The Client owns at most one UDP socket per address family (one
// for IPv4 trackers, one for IPv6 trackers), opened on first use; every UDP
// request shares it. A single reader goroutine per socket hands each
// datagram to the request whose transaction ID (and tracker address) it
// carries; datagrams that match no waiting request are dropped. HTTP
// announces share one keep-alive transport (NewHTTPTransport), so a busy
// tracker host is announced to over the same few connections.
//
// An [Announcer] belongs to one torrent and owns no goroutine while it
// waits: every tier's next announce is an appointment in its Client's
// scheduler, a heap watched by one goroutine that exists only while
// something is scheduled. A due announce runs in a goroutine that ends with
// it; one tier has at most one announce in flight, which owns the tier's
// URL order and per-URL state (whether "started" was acknowledged, the
// tracker ID) while it runs. [Announcer.Stop] sends "stopped" after the
// last one ended. When a tier announces next (intervals, retry backoff) is
// decided by the Announcer; the scheduler only keeps the time. The
// published status of each tracker is copied under the Announcer's mutex so
// that [Announcer.Status] never waits on a network call.
//
// # Thousands of torrents
//
// The Client paces first announces (spread.go): each tier's first
// announce takes a slot at most ClientConfig.AnnounceRate per second, in
// one lane for torrents that want peers and one for seeds, so a daemon
// restarted with 10,000 torrents announces them over minutes instead of
// at once, and their re-announces stay spread. It also keeps whether each
// tracker is reachable (health.go) and logs an outage once, with the
// number of torrents it hits, and its end, instead of a warning per
// torrent per retry.
//
// # Invariants
//
//   - Every network wait has a deadline: HTTP requests are bounded by the
//     caller's context and by the Announcer's per-attempt timeout, UDP waits by
//     the BEP 15 retransmission schedule and the caller's context.
//   - Responses are bounded: HTTP bodies by ClientConfig.MaxResponseSize, UDP
//     datagrams by the 64 KiB datagram limit.
//   - Returned peer lists never contain port 0 or an invalid address.
//   - A tracker that said "failure reason" (HTTP) or answered with action 3
//     (UDP) yields a *FailureError; everything else that goes wrong is a
//     plain wrapped error.
package tracker
