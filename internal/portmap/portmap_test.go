package portmap

import (
	"bufio"
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gobit/gobit/internal/portmap/portmaptest"
	"github.com/gobit/gobit/internal/testutil"
)

// fakeGateway is a Gateway without I/O, for the policy tests.
type fakeGateway struct {
	mu      sync.Mutex
	lease   time.Duration // granted; 0 grants none
	refuse  error
	adds    []string // "tcp 6881->6881 lease"
	deletes []string
	held    map[string]bool
}

func (g *fakeGateway) Method() string { return "fake" }

func (g *fakeGateway) ExternalIP(context.Context) (netip.Addr, error) {
	return netip.MustParseAddr("198.51.100.1"), nil
}

func (g *fakeGateway) Add(_ context.Context, proto string, in, ext uint16, lease time.Duration) (uint16, time.Duration, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refuse != nil {
		return 0, 0, g.refuse
	}
	g.adds = append(g.adds, proto)
	if g.held == nil {
		g.held = map[string]bool{}
	}
	g.held[proto] = true
	return ext + 1000, g.lease, nil
}

func (g *fakeGateway) Delete(_ context.Context, proto string, in, ext uint16) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.deletes = append(g.deletes, proto)
	delete(g.held, proto)
	return nil
}

func (g *fakeGateway) counts() (adds, deletes, held int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.adds), len(g.deletes), len(g.held)
}

// TestPolicyMapRenewDelete maps at start, renews at half the lease and
// deletes at Close (virtual time: no I/O).
func TestPolicyMapRenewDelete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gw := &fakeGateway{lease: 10 * time.Minute}
		m := Start(Config{Port: 6881, Discover: func(context.Context) (Gateway, error) { return gw, nil }})
		synctest.Wait()
		st := m.Status()
		if st.State != StateMapped || st.Method != "fake" || st.ExternalIP != "198.51.100.1" || len(st.Mappings) != 2 {
			t.Fatalf("after start: %+v", st)
		}
		for _, mp := range st.Mappings {
			if mp.InternalPort != 6881 || mp.ExternalPort != 7881 || mp.Expires.IsZero() {
				t.Errorf("mapping %+v", mp)
			}
		}
		if a, _, _ := gw.counts(); a != 2 {
			t.Fatalf("%d adds at start, want 2 (tcp, udp)", a)
		}
		time.Sleep(5*time.Minute - time.Second)
		synctest.Wait()
		if a, _, _ := gw.counts(); a != 2 {
			t.Fatalf("renewed before half the lease: %d adds", a)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if a, _, _ := gw.counts(); a != 4 {
			t.Fatalf("%d adds after half the lease, want 4", a)
		}
		if st := m.Status(); st.State != StateMapped {
			t.Fatalf("after renewal: %+v", st)
		}
		m.Close()
		if _, d, held := gw.counts(); d != 2 || held != 0 {
			t.Fatalf("after Close: %d deletes, %d held", d, held)
		}
		if st := m.Status(); st.State != StateRemoved || len(st.Mappings) != 0 {
			t.Fatalf("after Close: %+v", st)
		}
	})
}

// TestPolicyFailureRetries reports a refusal and a missing gateway, and
// tries again with a growing pause.
func TestPolicyFailureRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		discovers := 0
		gw := &fakeGateway{refuse: errors.New("gateway refused: UPnP error 718")}
		m := Start(Config{Port: 6881, Discover: func(context.Context) (Gateway, error) {
			mu.Lock()
			defer mu.Unlock()
			discovers++
			if discovers == 1 {
				return nil, errors.New("no gateway answered")
			}
			return gw, nil
		}})
		defer m.Close()
		synctest.Wait()
		if st := m.Status(); st.State != StateFailed || !strings.Contains(st.Error, "no gateway") {
			t.Fatalf("without a gateway: %+v", st)
		}
		time.Sleep(retryMin)
		synctest.Wait()
		if st := m.Status(); st.State != StateFailed || !strings.Contains(st.Error, "718") {
			t.Fatalf("refused: %+v", st)
		}
		// The next try comes after twice the pause; the gateway relents.
		gw.mu.Lock()
		gw.refuse = nil
		gw.mu.Unlock()
		time.Sleep(retryMin)
		synctest.Wait()
		if st := m.Status(); st.State != StateFailed {
			t.Fatalf("retried before the doubled pause: %+v", st)
		}
		time.Sleep(retryMin)
		synctest.Wait()
		if st := m.Status(); st.State != StateMapped || st.Error != "" {
			t.Fatalf("after the gateway relented: %+v", st)
		}
	})
}

// TestPolicyPermanentRefresh re-adds a mapping without a lease now and
// then (the router may have rebooted).
func TestPolicyPermanentRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gw := &fakeGateway{}
		m := Start(Config{Port: 6881, Discover: func(context.Context) (Gateway, error) { return gw, nil }})
		defer m.Close()
		synctest.Wait()
		if st := m.Status(); st.State != StateMapped || !st.Mappings[0].Expires.IsZero() {
			t.Fatalf("%+v", st)
		}
		time.Sleep(permanentRefresh + time.Second)
		synctest.Wait()
		if a, _, _ := gw.counts(); a != 4 {
			t.Fatalf("%d adds after %s, want 4", a, permanentRefresh)
		}
	})
}

// TestUPnPMapsRenewsDeletes runs the whole UPnP path against a fake IGD on
// loopback: SSDP search, device description, AddPortMapping for TCP and
// UDP, a renewal of a short lease, DeletePortMapping at Close.
func TestUPnPMapsRenewsDeletes(t *testing.T) {
	igd := portmaptest.NewIGD(t)
	// UPnP does not say what lease it granted: ask for a short one.
	m := Start(Config{Port: 6881, SSDPAddr: igd.SSDPAddr, NATPMPGateway: "off", Lease: 2 * time.Second})
	testutil.WaitFor(t, 20*time.Second, "the port mapped over UPnP", func() bool { return m.Status().State == StateMapped })
	st := m.Status()
	if st.Method != MethodUPnP || st.ExternalIP != portmaptest.ExternalIP || len(st.Mappings) != 2 {
		t.Fatalf("status %+v", st)
	}
	maps := igd.Mappings()
	if len(maps) != 2 {
		t.Fatalf("router holds %+v", maps)
	}
	for _, mp := range maps {
		if mp.InternalPort != 6881 || mp.ExternalPort != 6881 || mp.InternalClient != "127.0.0.1" || mp.Lease != 2*time.Second {
			t.Errorf("router's mapping %+v", mp)
		}
	}
	// Renewed at half the lease, about every second.
	testutil.WaitFor(t, 20*time.Second, "a renewal", func() bool { return igd.Adds() >= 4 })
	m.Close()
	if maps := igd.Mappings(); len(maps) != 0 || igd.Deletes() != 2 {
		t.Fatalf("after Close the router holds %+v (%d deletes)", maps, igd.Deletes())
	}
	if st := m.Status(); st.State != StateRemoved {
		t.Fatalf("after Close: %+v", st)
	}
}

// TestUPnPPermanentOnly maps without a lease on a router that refuses
// leases (error 725), and still deletes the mapping at Close.
func TestUPnPPermanentOnly(t *testing.T) {
	igd := portmaptest.NewIGD(t)
	igd.SetPermanentOnly(true)
	m := Start(Config{Port: 6881, SSDPAddr: igd.SSDPAddr, NATPMPGateway: "off"})
	testutil.WaitFor(t, 20*time.Second, "the port mapped over UPnP", func() bool { return m.Status().State == StateMapped })
	for _, mp := range igd.Mappings() {
		if mp.Lease != 0 {
			t.Errorf("router's mapping %+v has a lease", mp)
		}
	}
	for _, mp := range m.Status().Mappings {
		if !mp.Expires.IsZero() {
			t.Errorf("status mapping %+v expires", mp)
		}
	}
	m.Close()
	if maps := igd.Mappings(); len(maps) != 0 {
		t.Fatalf("after Close the router holds %+v", maps)
	}
}

// TestUPnPRefused reports the gateway's error code.
func TestUPnPRefused(t *testing.T) {
	igd := portmaptest.NewIGD(t)
	igd.SetRefuse(718)
	m := Start(Config{Port: 6881, SSDPAddr: igd.SSDPAddr, NATPMPGateway: "off"})
	defer m.Close()
	testutil.WaitFor(t, 20*time.Second, "the refusal reported", func() bool { return m.Status().State == StateFailed })
	if st := m.Status(); !strings.Contains(st.Error, "UPnP error 718") || len(st.Mappings) != 0 {
		t.Fatalf("status %+v", st)
	}
}

// TestGatewayMapsRenewsDeletes runs the NAT-PMP path against a fake
// server on a loopback address, and the PCP path (RFC 6887) against one
// that answers NAT-PMP with PCP's version: mapped, renewed, deleted, and a
// refusal reported with the gateway's result.
func TestGatewayMapsRenewsDeletes(t *testing.T) {
	for _, tc := range []struct {
		method    string
		newServer func(testing.TB) *portmaptest.NATPMP
		refusal   string // what the status's error says of result 2
	}{
		{MethodNATPMP, portmaptest.NewNATPMP, "refused"},
		{MethodPCP, portmaptest.NewPCP, "NOT_AUTHORIZED"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			srv := tc.newServer(t)
			srv.SetMaxLease(2 * time.Second)
			m := Start(Config{Port: 51413, SSDPAddr: "off", NATPMPGateway: srv.Gateway})
			testutil.WaitFor(t, 20*time.Second, "the port mapped over "+tc.method, func() bool { return m.Status().State == StateMapped })
			st := m.Status()
			if st.Method != tc.method || st.ExternalIP != portmaptest.ExternalIP || len(st.Mappings) != 2 {
				t.Fatalf("status %+v", st)
			}
			for _, mp := range srv.Mappings() {
				if mp.InternalPort != 51413 || mp.ExternalPort != 51413 || mp.Lease != 2*time.Second {
					t.Errorf("server's mapping %+v", mp)
				}
			}
			testutil.WaitFor(t, 20*time.Second, "a renewal", func() bool { return srv.Adds() >= 4 })
			m.Close()
			if maps := srv.Mappings(); len(maps) != 0 {
				t.Fatalf("after Close the server holds %+v", maps)
			}
			// A refusal names the gateway's result.
			srv.SetRefuse(2)
			m = Start(Config{Port: 51413, SSDPAddr: "off", NATPMPGateway: srv.Gateway})
			defer m.Close()
			testutil.WaitFor(t, 20*time.Second, "the refusal reported", func() bool { return m.Status().State == StateFailed })
			if st := m.Status(); !strings.Contains(st.Error, tc.refusal) {
				t.Fatalf("status %+v, want an error naming %q", st, tc.refusal)
			}
		})
	}
}

// TestFallsBackToNATPMP uses NAT-PMP when no UPnP gateway answers.
func TestFallsBackToNATPMP(t *testing.T) {
	srv := portmaptest.NewNATPMP(t)
	// SSDP goes to a port where nobody answers.
	m := Start(Config{Port: 6881, SSDPAddr: "127.0.0.1:9", NATPMPGateway: srv.Gateway})
	defer m.Close()
	testutil.WaitFor(t, 20*time.Second, "the port mapped over NAT-PMP", func() bool { return m.Status().State == StateMapped })
	if st := m.Status(); st.Method != MethodNATPMP {
		t.Fatalf("status %+v", st)
	}
}

func TestCheckLocation(t *testing.T) {
	for loc, ok := range map[string]bool{
		"http://192.168.1.1:5000/desc.xml": true,
		"http://10.0.0.1/desc.xml":         true,
		"http://127.0.0.1:80/x":            true,
		"http://[fe80::1]:80/x":            true,
		"http://8.8.8.8/desc.xml":          false,
		"http://router.lan/desc.xml":       false,
		"https://192.168.1.1/desc.xml":     false,
		"file:///etc/passwd":               false,
	} {
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkLocation(u); (err == nil) != ok {
			t.Errorf("checkLocation(%s) = %v, want ok %v", loc, err, ok)
		}
	}
}

func TestParseRoutes(t *testing.T) {
	table := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
		"eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
	ip, err := parseRoutes(bufio.NewScanner(strings.NewReader(table)))
	if err != nil || ip != netip.MustParseAddr("192.168.1.1") {
		t.Fatalf("parseRoutes = %v, %v", ip, err)
	}
	if _, err := parseRoutes(bufio.NewScanner(strings.NewReader(table[:80]))); err == nil {
		t.Fatal("a table without a default route gave a gateway")
	}
}
