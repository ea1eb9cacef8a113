package wire

import (
	"fmt"
	"net/netip"

	"github.com/gobit/gobit/internal/bencode"
)

// Extension names gobit speaks over the BEP 10 extension protocol.
const (
	// ExtMetadata is the BEP 9 metadata exchange extension.
	ExtMetadata = "ut_metadata"
	// ExtPex is the BEP 11 peer exchange extension.
	ExtPex = "ut_pex"
)

// ExtendedHandshakeID is the extended message ID of the BEP 10 handshake.
const ExtendedHandshakeID = 0

// Bounds applied to a peer's extension handshake.
const (
	// MaxExtensions is the most entries ParseExtendedHandshake accepts in
	// the "m" dictionary.
	MaxExtensions = 64
	// MaxClientNameLength is the length the "v" client name is cut to.
	MaxClientNameLength = 128
)

// ExtendedHandshake is the payload of the BEP 10 extension handshake
// (extended message 0).
type ExtendedHandshake struct {
	// M maps extension names to the extended message IDs the sender wants
	// to receive them with; 0 means the extension is disabled.
	M map[string]int `bencode:"m"`
	// V is the client name and version, e.g. "gobit 0.1".
	V string `bencode:"v,omitempty"`
	// Port is the sender's listening TCP port.
	Port int `bencode:"p,omitempty"`
	// Reqq is how many outstanding requests the sender queues without
	// dropping; callers cap it with their own limit.
	Reqq int `bencode:"reqq,omitempty"`
	// MetadataSize is the size in bytes of the info dictionary (BEP 9).
	MetadataSize int `bencode:"metadata_size,omitempty"`
	// YourIP is the receiver's address as the sender sees it: 4 or 16
	// bytes.
	YourIP []byte `bencode:"yourip,omitempty"`
	// IPv4 is the sender's own IPv4 address: 4 bytes.
	IPv4 []byte `bencode:"ipv4,omitempty"`
	// IPv6 is the sender's own IPv6 address: 16 bytes.
	IPv6 []byte `bencode:"ipv6,omitempty"`
	// UploadOnly is 1 if the sender only uploads (BEP 21).
	UploadOnly int `bencode:"upload_only,omitempty"`
}

// rawExtendedHandshake decodes the optional fields of a handshake without
// failing on values of an unexpected type, which are then ignored.
type rawExtendedHandshake struct {
	M            map[string]bencode.RawMessage `bencode:"m"`
	V            bencode.RawMessage            `bencode:"v"`
	Port         bencode.RawMessage            `bencode:"p"`
	Reqq         bencode.RawMessage            `bencode:"reqq"`
	MetadataSize bencode.RawMessage            `bencode:"metadata_size"`
	YourIP       bencode.RawMessage            `bencode:"yourip"`
	IPv4         bencode.RawMessage            `bencode:"ipv4"`
	IPv6         bencode.RawMessage            `bencode:"ipv6"`
	UploadOnly   bencode.RawMessage            `bencode:"upload_only"`
}

// rawInt decodes an integer field; it reports false if the field is absent
// or not an integer.
func rawInt(raw bencode.RawMessage) (int, bool) {
	var n int
	if len(raw) == 0 || bencode.Unmarshal(raw, &n) != nil {
		return 0, false
	}
	return n, true
}

// rawBytes decodes a string field; it returns nil if the field is absent,
// not a string, or not one of the allowed lengths.
func rawBytes(raw bencode.RawMessage, lengths ...int) []byte {
	var b []byte
	if len(raw) == 0 || raw[0] < '0' || raw[0] > '9' || bencode.Unmarshal(raw, &b) != nil {
		return nil
	}
	for _, n := range lengths {
		if len(b) == n {
			return b
		}
	}
	if len(lengths) == 0 {
		return b
	}
	return nil
}

// ParseExtendedHandshake decodes the payload of a BEP 10 extension handshake.
//
// The payload must be a dictionary whose "m" entry, if present, is a
// dictionary of at most MaxExtensions entries with IDs in 0..255 (entries
// whose value is not an integer are ignored). A metadata_size outside
// 1..MaxMetadataSize is an error. Optional informational fields of the
// wrong type or size (p outside 1..65535, negative reqq, yourip not 4 or 16
// bytes, ipv4 not 4 bytes, ipv6 not 16 bytes) are dropped rather than
// failing the handshake, and v is cut to MaxClientNameLength bytes. The
// returned M is never nil. Errors wrap ErrBadMessage.
func ParseExtendedHandshake(p []byte) (*ExtendedHandshake, error) {
	var raw rawExtendedHandshake
	if err := bencode.Unmarshal(p, &raw); err != nil {
		return nil, fmt.Errorf("%w: extension handshake: %w", ErrBadMessage, err)
	}
	if len(raw.M) > MaxExtensions {
		return nil, fmt.Errorf("%w: extension handshake: %d extensions in m, limit %d", ErrBadMessage, len(raw.M), MaxExtensions)
	}
	h := &ExtendedHandshake{M: make(map[string]int, len(raw.M))}
	for name, v := range raw.M {
		id, ok := rawInt(v)
		if !ok || name == "" {
			continue
		}
		if id < 0 || id > 255 {
			return nil, fmt.Errorf("%w: extension handshake: extension %.64q has id %d, want 0..255", ErrBadMessage, name, id)
		}
		h.M[name] = id
	}
	if n, ok := rawInt(raw.MetadataSize); ok {
		if n <= 0 || n > MaxMetadataSize {
			return nil, fmt.Errorf("%w: extension handshake: metadata_size %d, want 1..%d", ErrBadMessage, n, MaxMetadataSize)
		}
		h.MetadataSize = n
	}
	if v := rawBytes(raw.V); v != nil {
		if len(v) > MaxClientNameLength {
			v = v[:MaxClientNameLength]
		}
		h.V = string(v)
	}
	if n, ok := rawInt(raw.Port); ok && n > 0 && n <= 65535 {
		h.Port = n
	}
	if n, ok := rawInt(raw.Reqq); ok && n > 0 {
		h.Reqq = n
	}
	if n, ok := rawInt(raw.UploadOnly); ok && n > 0 {
		h.UploadOnly = 1
	}
	h.YourIP = rawBytes(raw.YourIP, 4, 16)
	h.IPv4 = rawBytes(raw.IPv4, 4)
	h.IPv6 = rawBytes(raw.IPv6, 16)
	return h, nil
}

// Marshal encodes h as the payload of an extension handshake. A nil M is
// written as an empty dictionary, since BEP 10 requires the "m" entry.
func (h *ExtendedHandshake) Marshal() ([]byte, error) {
	c := *h
	if c.M == nil {
		c.M = map[string]int{}
	}
	b, err := bencode.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("wire: encode extension handshake: %w", err)
	}
	return b, nil
}

// ExtensionID returns the extended message ID the sender of h wants the
// named extension sent with, and whether the extension is enabled (present
// with a non-zero ID).
func (h *ExtendedHandshake) ExtensionID(name string) (uint8, bool) {
	id := h.M[name]
	if id <= 0 || id > 255 {
		return 0, false
	}
	return uint8(id), true
}

// YourIPAddr returns the yourip field as an address, if it holds one.
func (h *ExtendedHandshake) YourIPAddr() (netip.Addr, bool) {
	addr, ok := netip.AddrFromSlice(h.YourIP)
	if !ok {
		return netip.Addr{}, false
	}
	return addr.Unmap(), true
}
