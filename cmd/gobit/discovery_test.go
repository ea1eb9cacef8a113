package main

import (
	"errors"
	"testing"

	"github.com/spf13/pflag"

	"github.com/gobit/gobit/internal/portmap"
	"github.com/gobit/gobit/internal/session"
)

// TestNetworkFlags: --ip-version reaches the session's configuration (and
// a bad value is a usage error); port mapping is on by default, aimed at
// the real SSDP group, and --no-port-mapping turns it off.
func TestNetworkFlags(t *testing.T) {
	parse := func(args ...string) (session.Config, error) {
		var o discoveryOptions
		f := pflag.NewFlagSet("t", pflag.ContinueOnError)
		o.register(f)
		if err := f.Parse(args); err != nil {
			t.Fatal(err)
		}
		var cfg session.Config
		return cfg, o.apply(&cfg)
	}
	cfg, err := parse()
	if err != nil || cfg.IPVersion != session.IPVersionBoth || cfg.PortMap == nil || cfg.PortMap.SSDPAddr != portmap.DefaultSSDPAddr || cfg.PortMap.NATPMPGateway != "" {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	cfg, err = parse("--ip-version", "6", "--no-port-mapping")
	if err != nil || cfg.IPVersion != "6" || cfg.PortMap != nil {
		t.Fatalf("--ip-version 6 --no-port-mapping: %+v %v", cfg, err)
	}
	cfg, err = parse("--port-mapping-ssdp", "127.0.0.1:1900", "--port-mapping-gateway", "off")
	if err != nil || cfg.PortMap == nil || cfg.PortMap.SSDPAddr != "127.0.0.1:1900" || cfg.PortMap.NATPMPGateway != "off" {
		t.Fatalf("port mapping targets: %+v %v", cfg.PortMap, err)
	}
	var ue *usageError
	if _, err := parse("--ip-version", "5"); !errors.As(err, &ue) {
		t.Fatalf("--ip-version 5: %v, want a usage error", err)
	}
}
