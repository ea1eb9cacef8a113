package main

import (
	"github.com/spf13/pflag"

	"github.com/gobit/gobit/internal/dht"
	"github.com/gobit/gobit/internal/session"
)

// discoveryOptions are the flags of how peers are found and reached
// (discovery, transports), shared by serve and download.
type discoveryOptions struct {
	noLSD     bool
	noDHT     bool
	bootstrap []string
	utp, tcp  bool
}

func (o *discoveryOptions) register(f *pflag.FlagSet) {
	f.BoolVar(&o.noLSD, "no-lsd", false, "turn off local service discovery (BEP 14 multicast announces on the LAN)")
	f.BoolVar(&o.noDHT, "no-dht", false, "turn off the DHT (BEP 5; it uses UDP on the --port number)")
	f.BoolVar(&o.utp, "utp", true, "uTP (BEP 29) on UDP at the --port number, beside TCP: accept uTP peers and try uTP first when connecting")
	f.BoolVar(&o.tcp, "tcp", true, "TCP peer connections (--tcp=false with --utp: uTP only)")
	f.StringSliceVar(&o.bootstrap, "dht-bootstrap", dht.DefaultBootstrap, "DHT nodes to join through, host:port[,host:port…]")
}

func (o *discoveryOptions) apply(cfg *session.Config) {
	cfg.LSD = !o.noLSD
	cfg.DHT = !o.noDHT
	cfg.DHTBootstrap = o.bootstrap
	cfg.UTP = o.utp
	cfg.NoTCP = !o.tcp && o.utp // never no transport at all
}
