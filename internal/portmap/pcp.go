package portmap

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// PCP (RFC 6887), NAT-PMP's successor on the same port. gobit speaks it to
// a gateway that answers NAT-PMP requests with a PCP version number.
const (
	pcpVersion     = 2
	pcpOpAnnounce  = 0
	pcpOpMap       = 1
	pcpResponseBit = 0x80
	pcpHeaderLen   = 24
	pcpMapLen      = 36
	pcpPort        = 5351
	// pcpFirstWait is the first retransmission timeout (RFC 6887 section
	// 8.1.1: 3 s; shorter here, the whole exchange is bounded by the
	// request timeout anyway).
	pcpFirstWait = 250 * time.Millisecond
)

// pcpResults names the PCP result codes (RFC 6887 section 7.4).
var pcpResults = map[byte]string{
	1: "UNSUPP_VERSION", 2: "NOT_AUTHORIZED", 3: "MALFORMED_REQUEST", 4: "UNSUPP_OPCODE",
	5: "UNSUPP_OPTION", 6: "MALFORMED_OPTION", 7: "NETWORK_FAILURE", 8: "NO_RESOURCES",
	9: "UNSUPP_PROTOCOL", 10: "USER_EX_QUOTA", 11: "CANNOT_PROVIDE_EXTERNAL", 12: "ADDRESS_MISMATCH",
	13: "EXCESSIVE_REMOTE_PEERS",
}

// pcpGateway maps ports with PCP MAP requests.
type pcpGateway struct {
	server  netip.AddrPort
	timeout time.Duration
	nonces  map[string][12]byte // per protocol: renewals reuse the nonce

	mu       sync.Mutex
	external netip.Addr // from the last MAP answer
}

func newPCPGateway(gw netip.Addr, timeout time.Duration) *pcpGateway {
	return &pcpGateway{server: netip.AddrPortFrom(gw, pcpPort), timeout: timeout, nonces: map[string][12]byte{}}
}

func (g *pcpGateway) Method() string { return MethodPCP }

// ExternalIP returns the address of the last MAP answer (PCP has no
// request for it alone).
func (g *pcpGateway) ExternalIP(context.Context) (netip.Addr, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.external.IsValid() {
		return netip.Addr{}, errors.New("no external address yet")
	}
	return g.external, nil
}

func (g *pcpGateway) Add(ctx context.Context, proto string, internal, external uint16, lease time.Duration) (uint16, time.Duration, error) {
	ext, life, ip, err := g.mapPort(ctx, proto, internal, external, uint32(max(lease/time.Second, 1)))
	if err != nil {
		return 0, 0, err
	}
	if life == 0 || ext == 0 {
		return 0, 0, errors.New("gateway granted no mapping")
	}
	g.mu.Lock()
	g.external = ip
	g.mu.Unlock()
	return ext, time.Duration(life) * time.Second, nil
}

// Delete sends a MAP with lifetime 0 (RFC 6887 section 15).
func (g *pcpGateway) Delete(ctx context.Context, proto string, internal, _ uint16) error {
	_, _, _, err := g.mapPort(ctx, proto, internal, 0, 0)
	return err
}

// probe checks that the gateway speaks PCP (an ANNOUNCE request).
func (g *pcpGateway) probe(ctx context.Context) error {
	_, err := g.exchange(ctx, pcpOpAnnounce, nil, 0)
	return err
}

func (g *pcpGateway) mapPort(ctx context.Context, proto string, internal, external uint16, lifetime uint32) (uint16, uint32, netip.Addr, error) {
	nonce, ok := g.nonces[proto]
	if !ok {
		rand.Read(nonce[:])
		g.nonces[proto] = nonce
	}
	body := make([]byte, pcpMapLen)
	copy(body, nonce[:])
	body[12] = 6 // TCP
	if proto == "udp" {
		body[12] = 17
	}
	binary.BigEndian.PutUint16(body[16:], internal)
	binary.BigEndian.PutUint16(body[18:], external)
	// Suggested external address: none (::ffff:0.0.0.0).
	body[30], body[31] = 0xff, 0xff
	resp, err := g.exchange(ctx, pcpOpMap, body, lifetime)
	if err != nil {
		return 0, 0, netip.Addr{}, err
	}
	if len(resp) < pcpHeaderLen+pcpMapLen || [12]byte(resp[pcpHeaderLen:pcpHeaderLen+12]) != nonce {
		return 0, 0, netip.Addr{}, errors.New("PCP answer for another request")
	}
	m := resp[pcpHeaderLen:]
	life := binary.BigEndian.Uint32(resp[4:])
	ip := netip.AddrFrom16([16]byte(m[20:36])).Unmap()
	return binary.BigEndian.Uint16(m[18:]), life, ip, nil
}

// exchange sends one request and waits for its answer, retransmitting
// with a doubling timeout, all within g.timeout.
func (g *pcpGateway) exchange(ctx context.Context, op byte, body []byte, lifetime uint32) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(g.server))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	go func() {
		<-ctx.Done()
		conn.SetDeadline(time.Now())
	}()
	req := make([]byte, pcpHeaderLen, pcpHeaderLen+len(body))
	req[0], req[1] = pcpVersion, op
	binary.BigEndian.PutUint32(req[4:], lifetime)
	client := conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr()
	c16 := client.As16() // an IPv4 address as ::ffff:a.b.c.d
	copy(req[8:24], c16[:])
	req = append(req, body...)
	buf := make([]byte, 1100) // RFC 6887: messages are at most 1100 bytes
	wait := pcpFirstWait
	for ctx.Err() == nil {
		if _, err := conn.Write(req); err != nil {
			return nil, err
		}
		conn.SetReadDeadline(time.Now().Add(wait))
		for {
			n, err := conn.Read(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break
				}
				return nil, err
			}
			r := buf[:n]
			if n < pcpHeaderLen || r[1] != op|pcpResponseBit {
				if n >= 4 && r[0] == 0 {
					return nil, errors.New("gateway speaks NAT-PMP, not PCP")
				}
				continue
			}
			if r[0] != pcpVersion {
				return nil, fmt.Errorf("PCP version %d", r[0])
			}
			if code := r[3]; code != 0 {
				name := pcpResults[code]
				if name == "" {
					name = fmt.Sprint("result ", code)
				}
				return nil, fmt.Errorf("gateway refused: PCP %s", name)
			}
			return append([]byte(nil), r...), nil
		}
		wait = min(2*wait, time.Second)
	}
	return nil, fmt.Errorf("no PCP answer from %s within %s", g.server, g.timeout)
}
