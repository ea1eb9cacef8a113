package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/gobit/gobit/internal/dht"
	"github.com/gobit/gobit/internal/portmap"
	"github.com/gobit/gobit/internal/session"
)

// discoveryOptions are the flags of how peers are found and reached
// (discovery, transports), shared by serve and download.
type discoveryOptions struct {
	noLSD     bool
	noDHT     bool
	bootstrap []string
	// ipVersion is --ip-version; noPortMap, ssdpAddr and natpmpGateway
	// the port mapping flags.
	ipVersion     string
	noPortMap     bool
	ssdpAddr      string
	natpmpGateway string
	// utp and tcp are --utp and --tcp.
	utp, tcp bool
}

func (o *discoveryOptions) register(f *pflag.FlagSet) {
	f.BoolVar(&o.noLSD, "no-lsd", false, "turn off local service discovery (BEP 14 multicast announces on the LAN)")
	f.BoolVar(&o.noDHT, "no-dht", false, "turn off the DHT (BEP 5; it uses UDP on the --port number)")
	f.BoolVar(&o.utp, "utp", true, "uTP (BEP 29) on UDP at the --port number, beside TCP: accept uTP peers and try uTP first when connecting")
	f.BoolVar(&o.tcp, "tcp", true, "TCP peer connections (--tcp=false with --utp: uTP only)")
	f.StringSliceVar(&o.bootstrap, "dht-bootstrap", dht.DefaultBootstrap, "DHT nodes to join through, host:port[,host:port…]")
	f.StringVar(&o.ipVersion, "ip-version", session.IPVersionBoth, "IP versions for peers, the DHT and trackers: 4, 6 or both")
	f.BoolVar(&o.noPortMap, "no-port-mapping", false, "do not ask the router to forward the peer port (UPnP IGD, NAT-PMP); off anyway with a loopback --listen-host")
	f.StringVar(&o.ssdpAddr, "port-mapping-ssdp", portmap.DefaultSSDPAddr, "where UPnP gateway searches are sent (host:port), or off")
	f.StringVar(&o.natpmpGateway, "port-mapping-gateway", "", "the NAT-PMP gateway's IP address (default: the default route's), or off")
}

func (o *discoveryOptions) apply(cfg *session.Config) error {
	cfg.LSD = !o.noLSD
	cfg.DHT = !o.noDHT
	cfg.DHTBootstrap = o.bootstrap
	cfg.UTP = o.utp
	cfg.NoTCP = !o.tcp && o.utp // never no transport at all
	switch o.ipVersion {
	case session.IPVersion4, session.IPVersion6, session.IPVersionBoth:
		cfg.IPVersion = o.ipVersion
	default:
		return &usageError{fmt.Errorf("--ip-version %q: want 4, 6 or both", o.ipVersion)}
	}
	if !o.noPortMap {
		cfg.PortMap = &portmap.Config{SSDPAddr: o.ssdpAddr, NATPMPGateway: o.natpmpGateway}
	}
	return nil
}
