// Package portmap opens the peer port on the home router: it finds a
// gateway that speaks UPnP IGD (WANIPConnection:2, WANIPConnection:1 or
// WANPPPConnection:1, through github.com/huin/goupnp), NAT-PMP (RFC 6886,
// through github.com/jackpal/go-nat-pmp) or PCP (RFC 6887, pcp.go, for a
// gateway that answers NAT-PMP with PCP's version), maps the port for TCP
// and UDP,
// renews each mapping at half its lease, and deletes the mappings when
// closed.
//
// # Ownership and concurrency
//
// A [Mapper] runs one goroutine that owns the gateway and the mappings:
// it discovers, maps, sleeps until the renewal is due, maps again, and on
// failure waits (doubling the pause from retryMin to retryMax) before
// discovering again. The published [Status] is a copy guarded by a
// mutex, so Status never waits on the network. Close cancels the
// goroutine, which deletes what it mapped (bounded by
// Config.RequestTimeout) before it exits.
//
// # Bounds
//
// Every network wait has a deadline: an SSDP search lasts
// Config.DiscoverTimeout, each SOAP call and each NAT-PMP or PCP exchange
// Config.RequestTimeout. Discovery runs in the Mapper's goroutine, never
// on the caller's. A device description is only fetched from an IP
// literal in a private, link-local or loopback range (an SSDP answer
// cannot send us elsewhere).
//
// # Tests
//
// Nothing here touches the network unless a Mapper is started: the SSDP
// address (Config.SSDPAddr) and the NAT-PMP gateway (Config.NATPMPGateway)
// are injectable, and the tests point them at in-process fakes on
// loopback. The policy (the loop: retries, renewals, deletion) is tested
// with a fake Gateway under testing/synctest.
package portmap
