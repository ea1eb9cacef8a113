package dht

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/gobit/gobit/internal/bencode"
)

// KRPC error codes (BEP 5).
const (
	ErrCodeGeneric  = 201 // generic error
	ErrCodeServer   = 202 // server error
	ErrCodeProtocol = 203 // protocol error: malformed packet, invalid arguments or bad token
	ErrCodeMethod   = 204 // method unknown
)

// MaxPacketSize is the largest KRPC packet the server reads; larger packets
// are dropped.
const MaxPacketSize = 2048

// Sizes of compact encodings.
const (
	compactNode4Len = 26 // 20-byte ID, 4-byte IPv4, 2-byte port
	compactNode6Len = 38 // 20-byte ID, 16-byte IPv6, 2-byte port
	compactPeer4Len = 6
	compactPeer6Len = 18
)

// ErrMalformed is wrapped by errors about KRPC messages that are not valid.
var ErrMalformed = errors.New("dht: malformed KRPC message")

// Msg is one KRPC message: a query (Y "q"), a response ("r") or an error
// ("e").
type Msg struct {
	T  string  `bencode:"t"`
	Y  string  `bencode:"y"`
	Q  string  `bencode:"q,omitempty"`
	A  *Args   `bencode:"a,omitempty"`
	R  *Return `bencode:"r,omitempty"`
	E  *Error  `bencode:"e,omitempty"`
	IP string  `bencode:"ip,omitempty"` // BEP 42: the requester's compact address, in responses
	V  string  `bencode:"v,omitempty"`  // client version
	RO int64   `bencode:"ro,omitempty"` // BEP 43: read-only node
}

// Args are the arguments of a query.
type Args struct {
	ID          string   `bencode:"id"`
	Target      string   `bencode:"target,omitempty"`
	InfoHash    string   `bencode:"info_hash,omitempty"`
	Port        int64    `bencode:"port,omitempty"`
	ImpliedPort int64    `bencode:"implied_port,omitempty"`
	Token       string   `bencode:"token,omitempty"`
	Want        []string `bencode:"want,omitempty"` // BEP 32: "n4", "n6"
}

// Return is the body of a response.
type Return struct {
	ID     string   `bencode:"id"`
	Nodes  string   `bencode:"nodes,omitempty"`
	Nodes6 string   `bencode:"nodes6,omitempty"`
	Token  string   `bencode:"token,omitempty"`
	Values []string `bencode:"values,omitempty"`
}

// Error is a KRPC error: a code and a message. It is also the Go error a
// query returns when the remote node answered with an error.
type Error struct {
	Code int64
	Msg  string
}

// Error returns "dht: remote error <code>: <msg>".
func (e *Error) Error() string {
	return "dht: remote error " + strconv.FormatInt(e.Code, 10) + ": " + e.Msg
}

// MarshalBencode encodes e as the list [code, message].
func (e *Error) MarshalBencode() ([]byte, error) {
	return bencode.Marshal([]any{e.Code, e.Msg})
}

// UnmarshalBencode decodes the list [code, message]. Extra elements are
// ignored; a missing message is allowed.
func (e *Error) UnmarshalBencode(data []byte) error {
	var l []any
	if err := bencode.Unmarshal(data, &l); err != nil {
		return err
	}
	if len(l) == 0 {
		return fmt.Errorf("%w: empty error list", ErrMalformed)
	}
	code, ok := l[0].(int64)
	if !ok {
		return fmt.Errorf("%w: error code is not an integer", ErrMalformed)
	}
	e.Code = code
	if len(l) > 1 {
		if s, ok := l[1].(string); ok {
			e.Msg = s
		}
	}
	return nil
}

// DecodeMsg decodes one KRPC packet and checks the fields its kind needs: a
// transaction ID, and a method name and arguments with a 20-byte node ID for
// queries, a body with a 20-byte node ID for responses, an error list for
// errors.
func DecodeMsg(b []byte) (*Msg, error) {
	var m Msg
	if err := bencode.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if m.T == "" {
		return nil, fmt.Errorf("%w: missing transaction ID", ErrMalformed)
	}
	switch m.Y {
	case "q":
		if m.Q == "" {
			return nil, fmt.Errorf("%w: query without method", ErrMalformed)
		}
		if m.A == nil || len(m.A.ID) != 20 {
			return nil, fmt.Errorf("%w: query without a 20-byte node ID", ErrMalformed)
		}
	case "r":
		if m.R == nil || len(m.R.ID) != 20 {
			return nil, fmt.Errorf("%w: response without a 20-byte node ID", ErrMalformed)
		}
	case "e":
		if m.E == nil {
			return nil, fmt.Errorf("%w: error message without error", ErrMalformed)
		}
	default:
		return nil, fmt.Errorf("%w: unknown message type %q", ErrMalformed, m.Y)
	}
	return &m, nil
}

// transactionOf extracts the transaction ID and message type of a packet
// that DecodeMsg rejected, so that a malformed query can still get an error
// reply. ok is false when even that is impossible.
func transactionOf(b []byte) (t, y string, ok bool) {
	var m struct {
		T string `bencode:"t"`
		Y string `bencode:"y"`
	}
	if err := bencode.Unmarshal(b, &m); err != nil || m.T == "" {
		return "", "", false
	}
	return m.T, m.Y, true
}

// errorMsg builds an error reply for transaction t.
func errorMsg(t string, code int64, msg string) *Msg {
	return &Msg{T: t, Y: "e", E: &Error{Code: code, Msg: msg}}
}

// EncodeMsg encodes m.
func EncodeMsg(m *Msg) ([]byte, error) {
	b, err := bencode.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("dht: encode %s message: %w", m.Y, err)
	}
	return b, nil
}

// NodeInfo is a DHT node: its ID and UDP address.
type NodeInfo struct {
	ID   [20]byte
	Addr netip.AddrPort
}

// validNodeAddr reports whether a is an address a node may have: a valid,
// specified unicast address with a non-zero port.
func validNodeAddr(a netip.AddrPort) bool {
	ip := a.Addr()
	return a.IsValid() && a.Port() != 0 && !ip.IsUnspecified() && !ip.IsMulticast()
}

// appendCompactAddr appends the compact form of a (4 or 16 bytes of IP,
// then the port, big endian).
func appendCompactAddr(b []byte, a netip.AddrPort) []byte {
	ip := a.Addr().Unmap()
	b = append(b, ip.AsSlice()...)
	return binary.BigEndian.AppendUint16(b, a.Port())
}

// parseCompactAddr parses a 6- or 18-byte compact address.
func parseCompactAddr(b []byte) (netip.AddrPort, bool) {
	switch len(b) {
	case compactPeer4Len, compactPeer6Len:
	default:
		return netip.AddrPort{}, false
	}
	ip, ok := netip.AddrFromSlice(b[:len(b)-2])
	if !ok {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip.Unmap(), binary.BigEndian.Uint16(b[len(b)-2:])), true
}

// encodeNodes returns the compact node info of the nodes of one family:
// IPv4 nodes if v6 is false, IPv6 nodes otherwise.
func encodeNodes(nodes []NodeInfo, v6 bool) string {
	var b []byte
	for _, n := range nodes {
		if n.Addr.Addr().Unmap().Is4() == v6 {
			continue
		}
		b = append(b, n.ID[:]...)
		b = appendCompactAddr(b, n.Addr)
	}
	return string(b)
}

// decodeNodes parses compact node info of entries of size entry (26 or 38
// bytes). A trailing partial entry and entries with an invalid address are
// skipped.
func decodeNodes(s string, entry int) []NodeInfo {
	var out []NodeInfo
	for len(s) >= entry {
		var n NodeInfo
		copy(n.ID[:], s[:20])
		if a, ok := parseCompactAddr([]byte(s[20:entry])); ok && validNodeAddr(a) {
			n.Addr = a
			out = append(out, n)
		}
		s = s[entry:]
	}
	return out
}

// decodePeers parses a "values" list of compact peer addresses, skipping
// malformed entries and port 0.
func decodePeers(values []string) []netip.AddrPort {
	out := make([]netip.AddrPort, 0, len(values))
	for _, v := range values {
		if a, ok := parseCompactAddr([]byte(v)); ok && validNodeAddr(a) {
			out = append(out, a)
		}
	}
	return out
}

// encodePeers returns the "values" list for peers.
func encodePeers(peers []netip.AddrPort) []string {
	out := make([]string, 0, len(peers))
	for _, p := range peers {
		out = append(out, string(appendCompactAddr(nil, p)))
	}
	return out
}
