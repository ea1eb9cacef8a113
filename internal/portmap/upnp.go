package portmap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/huin/goupnp"
	"github.com/huin/goupnp/dcps/internetgateway2"
	"github.com/huin/goupnp/httpu"
	"github.com/huin/goupnp/soap"
	"github.com/huin/goupnp/ssdp"
)

// UPnP error codes (UPnP IGD WANIPConnection:2, section 2.4.16).
const (
	upnpOnlyPermanentLeases = 725
)

// igdClient is what the three WAN connection services have in common.
type igdClient interface {
	AddPortMappingCtx(ctx context.Context, remoteHost string, externalPort uint16, protocol string,
		internalPort uint16, internalClient string, enabled bool, description string, lease uint32) error
	DeletePortMappingCtx(ctx context.Context, remoteHost string, externalPort uint16, protocol string) error
	GetExternalIPAddressCtx(ctx context.Context) (string, error)
}

// upnpGateway maps ports through one WAN connection service.
type upnpGateway struct {
	client igdClient
	local  string // our LAN address, as the gateway sees us
	desc   string
}

func (g *upnpGateway) Method() string { return MethodUPnP }

func (g *upnpGateway) ExternalIP(ctx context.Context) (netip.Addr, error) {
	s, err := g.client.GetExternalIPAddressCtx(ctx)
	if err != nil {
		return netip.Addr{}, err
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("gateway's external address %q: %w", truncate(s, 64), err)
	}
	return ip.Unmap(), nil
}

func (g *upnpGateway) Add(ctx context.Context, proto string, internal, external uint16, lease time.Duration) (uint16, time.Duration, error) {
	secs := uint32(min(lease/time.Second, 1<<31))
	err := g.client.AddPortMappingCtx(ctx, "", external, upnpProto(proto), internal, g.local, true, g.desc, secs)
	if code := upnpErrorCode(err); code == upnpOnlyPermanentLeases {
		// Older routers map only without a lease; we refresh it now and
		// then and delete it at exit.
		secs = 0
		err = g.client.AddPortMappingCtx(ctx, "", external, upnpProto(proto), internal, g.local, true, g.desc, 0)
	}
	if err != nil {
		return 0, 0, upnpError(err)
	}
	return external, time.Duration(secs) * time.Second, nil
}

func (g *upnpGateway) Delete(ctx context.Context, proto string, internal, external uint16) error {
	return upnpError(g.client.DeletePortMappingCtx(ctx, "", external, upnpProto(proto)))
}

func upnpProto(p string) string {
	if p == "udp" {
		return "UDP"
	}
	return "TCP"
}

func upnpErrorCode(err error) int {
	var fault *soap.SOAPFaultError
	if errors.As(err, &fault) {
		return fault.Detail.UPnPError.Errorcode
	}
	return 0
}

// upnpError shortens a SOAP fault to the gateway's code and description.
func upnpError(err error) error {
	var fault *soap.SOAPFaultError
	if errors.As(err, &fault) && fault.Detail.UPnPError.Errorcode != 0 {
		return fmt.Errorf("gateway refused: UPnP error %d %s", fault.Detail.UPnPError.Errorcode,
			truncate(fault.Detail.UPnPError.ErrorDescription, 100))
	}
	return err
}

// upnpServices are the WAN connection services we can use, best first.
var upnpServices = []string{
	internetgateway2.URN_WANIPConnection_2,
	internetgateway2.URN_WANIPConnection_1,
	internetgateway2.URN_WANPPPConnection_1,
}

// discoverUPnP searches for the WAN connection services over SSDP (one
// search per service, at once, each bounded by cfg.DiscoverTimeout) and
// returns a gateway for the best one found.
func discoverUPnP(ctx context.Context, cfg Config) (Gateway, error) {
	type found struct {
		locs []*url.URL
		err  error
	}
	results := make([]found, len(upnpServices))
	var wg sync.WaitGroup
	for i, urn := range upnpServices {
		wg.Go(func() {
			results[i].locs, results[i].err = ssdpSearch(ctx, cfg.SSDPAddr, urn, cfg.DiscoverTimeout)
		})
	}
	wg.Wait()
	var errs []error
	for i, urn := range upnpServices {
		if results[i].err != nil {
			errs = append(errs, results[i].err)
			continue
		}
		for _, loc := range results[i].locs {
			gw, err := upnpGatewayAt(ctx, loc, urn, cfg)
			if err == nil {
				return gw, nil
			}
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("no gateway answered the SSDP search within %s", cfg.DiscoverTimeout)
	}
	return nil, errors.Join(errs...)
}

// upnpGatewayAt fetches the device description at loc and makes a client
// of its service urn.
func upnpGatewayAt(ctx context.Context, loc *url.URL, urn string, cfg Config) (Gateway, error) {
	if err := checkLocation(loc); err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	root, err := goupnp.DeviceByURLCtx(dctx, loc)
	if err != nil {
		return nil, err
	}
	local, err := localAddrTo(loc)
	if err != nil {
		return nil, err
	}
	var client igdClient
	switch urn {
	case internetgateway2.URN_WANIPConnection_2:
		cs, err := internetgateway2.NewWANIPConnection2ClientsFromRootDevice(root, loc)
		if err != nil || len(cs) == 0 {
			return nil, fmt.Errorf("%s: %w", loc.Redacted(), err)
		}
		client = cs[0]
		cs[0].SOAPClient.HTTPClient = http.Client{Timeout: cfg.RequestTimeout}
	case internetgateway2.URN_WANIPConnection_1:
		cs, err := internetgateway2.NewWANIPConnection1ClientsFromRootDevice(root, loc)
		if err != nil || len(cs) == 0 {
			return nil, fmt.Errorf("%s: %w", loc.Redacted(), err)
		}
		client = cs[0]
		cs[0].SOAPClient.HTTPClient = http.Client{Timeout: cfg.RequestTimeout}
	default:
		cs, err := internetgateway2.NewWANPPPConnection1ClientsFromRootDevice(root, loc)
		if err != nil || len(cs) == 0 {
			return nil, fmt.Errorf("%s: %w", loc.Redacted(), err)
		}
		client = cs[0]
		cs[0].SOAPClient.HTTPClient = http.Client{Timeout: cfg.RequestTimeout}
	}
	return &upnpGateway{client: client, local: local, desc: cfg.Description}, nil
}

// checkLocation accepts only a device description on the LAN: an http URL
// whose host is an IP literal in a private, link-local or loopback range.
func checkLocation(loc *url.URL) error {
	if loc.Scheme != "http" {
		return fmt.Errorf("device location %q is not http", truncate(loc.Redacted(), 100))
	}
	ip, err := netip.ParseAddr(loc.Hostname())
	if err != nil {
		return fmt.Errorf("device location %q is not an IP address", truncate(loc.Redacted(), 100))
	}
	ip = ip.Unmap()
	if !ip.IsPrivate() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() {
		return fmt.Errorf("device location %q is outside the LAN", truncate(loc.Redacted(), 100))
	}
	return nil
}

// localAddrTo returns our address on the route to loc's host (a UDP
// "connect" sends nothing).
func localAddrTo(loc *url.URL) (string, error) {
	port := loc.Port()
	if port == "" {
		port = "80"
	}
	c, err := net.Dial("udp", net.JoinHostPort(loc.Hostname(), port))
	if err != nil {
		return "", fmt.Errorf("no route to the gateway %s: %w", loc.Host, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String(), nil
}

// ssdpSearch sends an M-SEARCH for urn to addr and returns the locations
// that answered within timeout.
func ssdpSearch(ctx context.Context, addr, urn string, timeout time.Duration) ([]*url.URL, error) {
	hc, err := httpu.NewHTTPUClient()
	if err != nil {
		return nil, err
	}
	defer hc.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resps, err := ssdp.RawSearch(ctx, &ssdpTo{hc: hc, addr: addr}, urn, 2)
	if err != nil {
		return nil, fmt.Errorf("ssdp search: %w", err)
	}
	var locs []*url.URL
	for _, r := range resps {
		if loc, err := r.Location(); err == nil {
			locs = append(locs, loc)
		}
	}
	return locs, nil
}

// ssdpTo sends SSDP requests to addr instead of the multicast group goupnp
// writes into every request (so tests can answer on loopback).
type ssdpTo struct {
	hc   *httpu.HTTPUClient
	addr string
}

func (s *ssdpTo) DoWithContext(req *http.Request, numSends int) ([]*http.Response, error) {
	if s.addr != DefaultSSDPAddr {
		req = req.Clone(req.Context())
		req.Host = s.addr
	}
	return s.hc.DoWithContext(req, numSends)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
