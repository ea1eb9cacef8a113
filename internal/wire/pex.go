package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/gobit/gobit/internal/bencode"
)

// MaxPexPeers is the most peers ParsePex keeps in each of Added and Dropped;
// entries beyond it are ignored. BEP 11 asks senders for at most 50 of each.
const MaxPexPeers = 100

// Flags of an added peer (the added.f and added6.f bytes of BEP 11).
const (
	// PexEncryption: the peer prefers encrypted connections.
	PexEncryption byte = 0x01
	// PexSeed: the peer is a seed or upload-only.
	PexSeed byte = 0x02
	// PexUTP: the peer supports uTP.
	PexUTP byte = 0x04
	// PexHolepunch: the peer supports the ut_holepunch extension.
	PexHolepunch byte = 0x08
	// PexOutgoing: the sender connected to the peer (so it is reachable).
	PexOutgoing byte = 0x10
)

// PexMessage is a BEP 11 ut_pex message: peers the sender connected to
// (Added, with one flags byte each) and disconnected from (Dropped) since its
// previous message. IPv4 and IPv6 peers travel in separate keys on the wire;
// here they share one list, IPv4 addresses in their 4-byte form.
type PexMessage struct {
	// Added lists newly connected peers.
	Added []netip.AddrPort
	// AddedFlags holds one flags byte per entry of Added (PexSeed, ...).
	// When marshalling, nil means no flags.
	AddedFlags []byte
	// Dropped lists peers the sender disconnected from.
	Dropped []netip.AddrPort
}

// pexDict is the wire form of a ut_pex message.
type pexDict struct {
	Added    []byte `bencode:"added"`
	AddedF   []byte `bencode:"added.f"`
	Dropped  []byte `bencode:"dropped"`
	Added6   []byte `bencode:"added6,omitempty"`
	Added6F  []byte `bencode:"added6.f,omitempty"`
	Dropped6 []byte `bencode:"dropped6,omitempty"`
}

// ParsePex decodes a ut_pex message payload.
//
// Compact peer lists whose length is not a multiple of the entry size (6
// bytes for IPv4, 18 for IPv6) are an error wrapping ErrBadMessage. Entries
// with port 0 or an unspecified, multicast or broadcast address are skipped,
// as are entries past MaxPexPeers in Added or Dropped. A flags list that is
// missing or of the wrong length is tolerated: missing flags read as 0.
// AddedFlags always has one byte per entry of Added.
func ParsePex(p []byte) (PexMessage, error) {
	var d pexDict
	if err := bencode.Unmarshal(p, &d); err != nil {
		return PexMessage{}, fmt.Errorf("%w: ut_pex: %w", ErrBadMessage, err)
	}
	var m PexMessage
	var err error
	if m.Added, m.AddedFlags, err = parseCompactPeers(nil, nil, d.Added, d.AddedF, true, 4, "added"); err != nil {
		return PexMessage{}, err
	}
	if m.Added, m.AddedFlags, err = parseCompactPeers(m.Added, m.AddedFlags, d.Added6, d.Added6F, true, 16, "added6"); err != nil {
		return PexMessage{}, err
	}
	if m.Dropped, _, err = parseCompactPeers(nil, nil, d.Dropped, nil, false, 4, "dropped"); err != nil {
		return PexMessage{}, err
	}
	if m.Dropped, _, err = parseCompactPeers(m.Dropped, nil, d.Dropped6, nil, false, 16, "dropped6"); err != nil {
		return PexMessage{}, err
	}
	return m, nil
}

// parseCompactPeers appends the usable peers of a compact list (ipLen-byte
// addresses, each followed by a 2-byte port) to peers, and their flags to
// flags (listFlags[i], or 0 where it is missing) to flags if withFlags is set.
// key names the list in errors.
func parseCompactPeers(peers []netip.AddrPort, flags, list, listFlags []byte, withFlags bool, ipLen int, key string) ([]netip.AddrPort, []byte, error) {
	entry := ipLen + 2
	if len(list)%entry != 0 {
		return nil, nil, fmt.Errorf("%w: ut_pex: %s is %d bytes, not a multiple of %d", ErrBadMessage, key, len(list), entry)
	}
	for i := 0; i*entry < len(list) && len(peers) < MaxPexPeers; i++ {
		e := list[i*entry : (i+1)*entry]
		addr, _ := netip.AddrFromSlice(e[:ipLen])
		addr = addr.Unmap()
		port := binary.BigEndian.Uint16(e[ipLen:])
		if port == 0 || addr.IsUnspecified() || addr.IsMulticast() || addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			continue
		}
		peers = append(peers, netip.AddrPortFrom(addr, port))
		if withFlags {
			var f byte
			if i < len(listFlags) {
				f = listFlags[i]
			}
			flags = append(flags, f)
		}
	}
	return peers, flags, nil
}

// Marshal encodes m as a ut_pex payload. IPv4 (and IPv4-mapped) addresses go
// to added/added.f/dropped, IPv6 addresses to added6/added6.f/dropped6. It
// fails if an address is invalid or AddedFlags is neither nil nor as long as
// Added.
func (m PexMessage) Marshal() ([]byte, error) {
	if m.AddedFlags != nil && len(m.AddedFlags) != len(m.Added) {
		return nil, fmt.Errorf("wire: encode ut_pex: %d flags for %d added peers", len(m.AddedFlags), len(m.Added))
	}
	d := pexDict{Added: []byte{}, AddedF: []byte{}, Dropped: []byte{}}
	for i, ap := range m.Added {
		var f byte
		if m.AddedFlags != nil {
			f = m.AddedFlags[i]
		}
		addr := ap.Addr().Unmap()
		switch {
		case addr.Is4():
			d.Added = appendCompact(d.Added, addr, ap.Port())
			d.AddedF = append(d.AddedF, f)
		case addr.Is6():
			d.Added6 = appendCompact(d.Added6, addr, ap.Port())
			d.Added6F = append(d.Added6F, f)
		default:
			return nil, fmt.Errorf("wire: encode ut_pex: invalid added address %v", ap)
		}
	}
	for _, ap := range m.Dropped {
		addr := ap.Addr().Unmap()
		switch {
		case addr.Is4():
			d.Dropped = appendCompact(d.Dropped, addr, ap.Port())
		case addr.Is6():
			d.Dropped6 = appendCompact(d.Dropped6, addr, ap.Port())
		default:
			return nil, fmt.Errorf("wire: encode ut_pex: invalid dropped address %v", ap)
		}
	}
	b, err := bencode.Marshal(&d)
	if err != nil {
		return nil, fmt.Errorf("wire: encode ut_pex: %w", err)
	}
	return b, nil
}

// appendCompact appends the compact form of a peer: its 4 or 16 address
// bytes and its big-endian port.
func appendCompact(b []byte, addr netip.Addr, port uint16) []byte {
	b = append(b, addr.AsSlice()...)
	return binary.BigEndian.AppendUint16(b, port)
}
