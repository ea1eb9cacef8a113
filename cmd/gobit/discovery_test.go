package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/gobit/gobit/internal/portmap"
	"github.com/gobit/gobit/internal/portmap/portmaptest"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
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

// TestServePortMapping: the daemon maps its peer port by default (here on
// a fake router on loopback), shows it in GET /api/v1/session, logs it,
// and removes it at exit; with a loopback listener it maps nothing.
func TestServePortMapping(t *testing.T) {
	clearEnv(t)
	igd := portmaptest.NewIGD(t)
	// Cleanups run last first: this one runs after startServeArgs's has
	// stopped the daemon.
	t.Cleanup(func() {
		if m := igd.Mappings(); len(m) != 0 {
			t.Errorf("after exit the router still maps %+v", m)
		}
	})
	func() {
		// An empty --listen-host (all interfaces) after the helper's
		// loopback one: something a router could forward to.
		base := startServeArgs(t, "--listen-host=", "--port-mapping-ssdp", igd.SSDPAddr, "--port-mapping-gateway", "off")
		var info struct {
			Network struct {
				PortMapping *portmap.Status `json:"port_mapping"`
			} `json:"network"`
		}
		testutil.WaitFor(t, 20*time.Second, "the port mapped in GET /api/v1/session", func() bool {
			resp, err := http.Get(base + "/api/v1/session")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			if json.NewDecoder(resp.Body).Decode(&info) != nil {
				return false
			}
			return info.Network.PortMapping != nil && info.Network.PortMapping.State == portmap.StateMapped
		})
		if pm := info.Network.PortMapping; pm.Method != portmap.MethodUPnP || len(pm.Mappings) != 2 || pm.ExternalIP != portmaptest.ExternalIP {
			t.Fatalf("port mapping %+v", pm)
		}
		if n := len(igd.Mappings()); n != 2 {
			t.Fatalf("router holds %d mappings", n)
		}
	}()
}

// TestServeLoopbackMapsNothing: the daemon the other tests run (loopback
// listener) never searches for a router, whatever the flags.
func TestServeLoopbackMapsNothing(t *testing.T) {
	clearEnv(t)
	igd := portmaptest.NewIGD(t)
	base := startServeArgs(t, "--port-mapping-ssdp", igd.SSDPAddr)
	resp, err := http.Get(base + "/api/v1/session")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct {
		Network map[string]any `json:"network"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	if pm, ok := info.Network["port_mapping"]; !ok || pm != nil {
		t.Fatalf("network %+v: want port_mapping null", info.Network)
	}
	if igd.Searches() != 0 {
		t.Fatalf("%d SSDP searches", igd.Searches())
	}
}
