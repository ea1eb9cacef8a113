package main

import (
	"github.com/spf13/pflag"

	"github.com/gobit/gobit/internal/session"
)

// discoveryOptions are the peer-discovery flags shared by serve and
// download.
type discoveryOptions struct {
	noLSD bool
}

func (o *discoveryOptions) register(f *pflag.FlagSet) {
	f.BoolVar(&o.noLSD, "no-lsd", false, "turn off local service discovery (BEP 14 multicast announces on the LAN)")
}

func (o *discoveryOptions) apply(cfg *session.Config) {
	cfg.LSD = !o.noLSD
}
