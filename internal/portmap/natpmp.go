package portmap

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	natpmp "github.com/jackpal/go-nat-pmp"
)

// natpmpGateway maps ports through a NAT-PMP server (RFC 6886). The
// library's calls take no context; each is bounded by the client's
// timeout (Config.RequestTimeout).
type natpmpGateway struct {
	client *natpmp.Client
}

func (g *natpmpGateway) Method() string { return MethodNATPMP }

func (g *natpmpGateway) ExternalIP(context.Context) (netip.Addr, error) {
	r, err := g.client.GetExternalAddress()
	if err != nil {
		return netip.Addr{}, err
	}
	return netip.AddrFrom4(r.ExternalIPAddress), nil
}

func (g *natpmpGateway) Add(_ context.Context, proto string, internal, external uint16, lease time.Duration) (uint16, time.Duration, error) {
	r, err := g.client.AddPortMapping(proto, int(internal), int(external), int(max(lease/time.Second, 1)))
	if err != nil {
		return 0, 0, natpmpError(err)
	}
	if r.PortMappingLifetimeInSeconds == 0 || r.MappedExternalPort == 0 {
		return 0, 0, errors.New("gateway granted no mapping")
	}
	return r.MappedExternalPort, time.Duration(r.PortMappingLifetimeInSeconds) * time.Second, nil
}

// Delete asks for a lifetime of 0, which removes the mapping (RFC 6886
// section 3.4: the external port must be 0 too).
func (g *natpmpGateway) Delete(_ context.Context, proto string, internal, _ uint16) error {
	_, err := g.client.AddPortMapping(proto, int(internal), 0, 0)
	return natpmpError(err)
}

// natpmpError marks a non-zero NAT-PMP result code (RFC 6886 section
// 3.5: not authorized, network failure, out of resources...) as a refusal.
func natpmpError(err error) error {
	if err != nil && strings.Contains(err.Error(), "result code") {
		return fmt.Errorf("gateway refused: %w", err)
	}
	return err
}

// discoverNATPMP asks the configured gateway (or the default route's) for
// its external address: a gateway that answers speaks NAT-PMP. One that
// answers with PCP's version number gets PCP (RFC 6887) instead.
func discoverNATPMP(ctx context.Context, cfg Config) (Gateway, error) {
	var gw netip.Addr
	if cfg.NATPMPGateway != "" {
		ip, err := netip.ParseAddr(cfg.NATPMPGateway)
		if err != nil {
			return nil, fmt.Errorf("gateway address %q: %w", cfg.NATPMPGateway, err)
		}
		gw = ip
	} else {
		ip, err := defaultGateway()
		if err != nil {
			return nil, err
		}
		gw = ip
	}
	g := &natpmpGateway{client: natpmp.NewClientWithTimeout(gw.AsSlice(), cfg.RequestTimeout)}
	_, err := g.ExternalIP(ctx)
	if err == nil {
		return g, nil
	}
	if !strings.Contains(err.Error(), "PCP") {
		return nil, fmt.Errorf("natpmp: gateway %s: %w", gw, err)
	}
	p := newPCPGateway(gw, cfg.RequestTimeout)
	if perr := p.probe(ctx); perr != nil {
		return nil, fmt.Errorf("pcp: gateway %s: %w", gw, perr)
	}
	return p, nil
}

// defaultGateway reads the IPv4 default route's gateway from the kernel's
// routing table (Linux; elsewhere NAT-PMP needs Config.NATPMPGateway).
func defaultGateway() (netip.Addr, error) {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return netip.Addr{}, fmt.Errorf("no default gateway known: %w", err)
	}
	defer f.Close()
	return parseRoutes(bufio.NewScanner(f))
}

// parseRoutes finds the default route in /proc/net/route's format: a
// header line, then "Iface Destination Gateway Flags ..." with addresses
// in little-endian hex.
func parseRoutes(sc *bufio.Scanner) (netip.Addr, error) {
	first := true
	for n := 0; sc.Scan() && n < 4096; n++ {
		if first {
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 4 || f[1] != "00000000" {
			continue
		}
		b, err := hex.DecodeString(f[2])
		if err != nil || len(b) != 4 {
			continue
		}
		var a [4]byte
		binary.LittleEndian.PutUint32(a[:], binary.BigEndian.Uint32(b))
		if ip := netip.AddrFrom4(a); !ip.IsUnspecified() {
			return ip, nil
		}
	}
	return netip.Addr{}, errors.New("no default gateway in the routing table")
}
