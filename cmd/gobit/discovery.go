package main

import (
	"github.com/spf13/pflag"

	"github.com/gobit/gobit/internal/dht"
	"github.com/gobit/gobit/internal/session"
)

// discoveryOptions are the peer-discovery flags shared by serve and
// download.
type discoveryOptions struct {
	noLSD     bool
	noDHT     bool
	bootstrap []string
}

func (o *discoveryOptions) register(f *pflag.FlagSet) {
	f.BoolVar(&o.noLSD, "no-lsd", false, "turn off local service discovery (BEP 14 multicast announces on the LAN)")
	f.BoolVar(&o.noDHT, "no-dht", false, "turn off the DHT (BEP 5; it uses UDP on the --port number)")
	f.StringSliceVar(&o.bootstrap, "dht-bootstrap", dht.DefaultBootstrap, "DHT nodes to join through, host:port[,host:port…]")
}

func (o *discoveryOptions) apply(cfg *session.Config) {
	cfg.LSD = !o.noLSD
	cfg.DHT = !o.noDHT
	cfg.DHTBootstrap = o.bootstrap
}
