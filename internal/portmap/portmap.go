package portmap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"
)

// Defaults of Config.
const (
	// DefaultSSDPAddr is the SSDP multicast group and port (UPnP).
	DefaultSSDPAddr = "239.255.255.250:1900"
	// DefaultLease is the lease asked for each mapping.
	DefaultLease = time.Hour
	// DefaultDiscoverTimeout bounds one SSDP search (at least a second:
	// SSDP's MX header counts whole seconds).
	DefaultDiscoverTimeout = 2 * time.Second
	// DefaultRequestTimeout bounds one SOAP call or NAT-PMP exchange.
	DefaultRequestTimeout = 3 * time.Second
	// DefaultDescription names our mappings in the router's table.
	DefaultDescription = "gobit"
)

// Retry and renewal timing.
const (
	// retryMin and retryMax bound the pause before discovering again after
	// a failure; it doubles on each consecutive failure.
	retryMin = 30 * time.Second
	retryMax = 30 * time.Minute
	// permanentRefresh is how often a mapping the gateway granted without
	// a lease (UPnP lease 0) is added again, in case the router rebooted.
	permanentRefresh = 30 * time.Minute
	// minRenew floors the wait before a renewal, against a gateway that
	// grants a lease of a second.
	minRenew = time.Second
)

// The states of a Mapper (Status.State).
const (
	StateDiscovering = "discovering" // looking for a gateway
	StateMapped      = "mapped"      // every protocol is mapped
	StateRenewing    = "renewing"    // a renewal is under way
	StateFailed      = "failed"      // no gateway, or it refused; retried later
	StateRemoved     = "removed"     // closed; the mappings were deleted
)

// The methods (Status.Method).
const (
	MethodUPnP   = "upnp"
	MethodNATPMP = "natpmp"
	MethodPCP    = "pcp"
)

// Protocols mapped: the peer port is used by TCP (peers) and UDP (DHT,
// uTP).
var protocols = []string{"tcp", "udp"}

// Gateway is one router able to map ports: UPnP IGD or NAT-PMP.
type Gateway interface {
	// Method names the protocol (MethodUPnP, MethodNATPMP, MethodPCP).
	Method() string
	// ExternalIP asks the gateway for its external address.
	ExternalIP(ctx context.Context) (netip.Addr, error)
	// Add maps the external port to our internal port for proto ("tcp" or
	// "udp") for lease and returns the external port and lease granted (0
	// when the mapping does not expire).
	Add(ctx context.Context, proto string, internal, external uint16, lease time.Duration) (uint16, time.Duration, error)
	// Delete removes the mapping of the external port for proto.
	Delete(ctx context.Context, proto string, internal, external uint16) error
}

// Config configures a Mapper.
type Config struct {
	// Port is the internal port mapped, for TCP and UDP (required).
	Port int
	// Lease is the lease asked for each mapping (default DefaultLease).
	Lease time.Duration
	// Description names the mappings in the router's table.
	Description string
	// SSDPAddr is where UPnP searches are sent (default DefaultSSDPAddr;
	// tests use a responder on loopback). "off" skips UPnP.
	SSDPAddr string
	// NATPMPGateway is the NAT-PMP server's IP address (the protocol fixes
	// its port, 5351); empty means the default route's gateway, "off"
	// skips NAT-PMP.
	NATPMPGateway string
	// DiscoverTimeout bounds one SSDP search; RequestTimeout one SOAP call
	// or NAT-PMP exchange.
	DiscoverTimeout, RequestTimeout time.Duration
	// Discover, when set, replaces the discovery above (tests of the
	// policy): it returns the gateway to use.
	Discover func(ctx context.Context) (Gateway, error)
	// Logger receives the mapper's log; nil discards it.
	Logger *slog.Logger
}

// Status is the state of the port mapping, as GET /api/v1/session shows it.
type Status struct {
	// State is one of "discovering", "mapped", "renewing", "failed",
	// "removed".
	State string `json:"state"`
	// Method is how the port is mapped: "upnp", "natpmp", "pcp", or ""
	// before a gateway was found.
	Method string `json:"method"`
	// ExternalIP is the gateway's external address, when it told us.
	ExternalIP string `json:"external_ip"`
	// Error says why the last attempt failed ("" when it did not).
	Error string `json:"error,omitempty"`
	// Mappings are the ports mapped now.
	Mappings []Mapping `json:"mappings"`
}

// Mapping is one mapped port.
type Mapping struct {
	// Protocol is "tcp" or "udp".
	Protocol string `json:"protocol"`
	// InternalPort is our port and ExternalPort the router's.
	InternalPort int `json:"internal_port"`
	ExternalPort int `json:"external_port"`
	// Expires is when the lease ends (the zero time for a mapping without
	// a lease); the mapper renews it at half its lease.
	Expires time.Time `json:"expires"`
}

// Mapper keeps the peer port mapped. Create it with Start.
type Mapper struct {
	cfg    Config
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}

	mu sync.Mutex
	st Status // guarded by mu
}

// Start begins mapping cfg.Port in the background and returns at once.
func Start(cfg Config) *Mapper {
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Description == "" {
		cfg.Description = DefaultDescription
	}
	if cfg.SSDPAddr == "" {
		cfg.SSDPAddr = DefaultSSDPAddr
	}
	if cfg.DiscoverTimeout <= 0 {
		cfg.DiscoverTimeout = DefaultDiscoverTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Mapper{cfg: cfg, log: log, cancel: cancel, done: make(chan struct{}),
		st: Status{State: StateDiscovering, Mappings: []Mapping{}}}
	if m.cfg.Discover == nil {
		m.cfg.Discover = m.discover
	}
	go m.run(ctx)
	return m
}

// Status returns a copy of the mapping's state.
func (m *Mapper) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.st
	st.Mappings = append([]Mapping{}, m.st.Mappings...)
	return st
}

// Close stops the mapper and deletes its mappings; it returns once they
// are deleted or the gateway failed to answer in time.
func (m *Mapper) Close() {
	m.cancel()
	<-m.done
}

func (m *Mapper) update(f func(*Status)) {
	m.mu.Lock()
	f(&m.st)
	m.mu.Unlock()
}

// run owns the gateway and the mappings until ctx is cancelled.
func (m *Mapper) run(ctx context.Context) {
	defer close(m.done)
	var gw Gateway
	var held []Mapping
	defer func() { m.removeAll(gw, held) }()
	backoff := retryMin
	for {
		if gw == nil {
			m.update(func(s *Status) { s.State = StateDiscovering })
			g, err := m.cfg.Discover(ctx)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				m.fail(err, backoff)
				if !sleep(ctx, backoff) {
					return
				}
				backoff = min(2*backoff, retryMax)
				continue
			}
			gw = g
		}
		next, err := m.mapAll(ctx, gw, &held)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			m.fail(err, backoff)
			gw = nil // the gateway may have changed: discover again
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, retryMax)
			continue
		}
		backoff = retryMin
		if !sleep(ctx, time.Until(next)) {
			return
		}
		m.update(func(s *Status) { s.State = StateRenewing })
		m.log.Debug("renewing port mapping", "method", gw.Method(), "port", m.cfg.Port)
	}
}

// fail records a failed attempt.
func (m *Mapper) fail(err error, retry time.Duration) {
	m.update(func(s *Status) {
		s.State, s.Error = StateFailed, err.Error()
	})
	m.log.Warn("port mapping failed", "port", m.cfg.Port, "err", err, "retry_in", retry)
}

// mapAll maps (or renews) every protocol on gw and returns when the next
// renewal is due. held is the list of mappings made so far, for deletion.
func (m *Mapper) mapAll(ctx context.Context, gw Gateway, held *[]Mapping) (time.Time, error) {
	now := time.Now()
	next := now.Add(permanentRefresh)
	var got []Mapping
	port := uint16(m.cfg.Port)
	for _, proto := range protocols {
		external := port
		for _, h := range *held {
			if h.Protocol == proto {
				external = uint16(h.ExternalPort) // renew the same mapping
			}
		}
		rctx, cancel := context.WithTimeout(ctx, m.cfg.RequestTimeout)
		ext, lease, err := gw.Add(rctx, proto, port, external, m.cfg.Lease)
		cancel()
		if err != nil {
			*held = mergeMappings(*held, got)
			m.update(func(s *Status) { s.Mappings = append([]Mapping{}, *held...) })
			return time.Time{}, fmt.Errorf("%s: map %s port %d: %w", gw.Method(), proto, port, err)
		}
		mp := Mapping{Protocol: proto, InternalPort: int(port), ExternalPort: int(ext)}
		if lease > 0 {
			mp.Expires = now.Add(lease)
			next = minTime(next, now.Add(max(lease/2, minRenew)))
		}
		got = append(got, mp)
	}
	*held = mergeMappings(*held, got)
	var ext netip.Addr
	rctx, cancel := context.WithTimeout(ctx, m.cfg.RequestTimeout)
	ip, err := gw.ExternalIP(rctx)
	cancel()
	if err == nil {
		ext = ip
	}
	var first bool
	m.update(func(s *Status) {
		first = s.State != StateRenewing
		s.State, s.Method, s.Error = StateMapped, gw.Method(), ""
		if ext.IsValid() {
			s.ExternalIP = ext.String()
		}
		s.Mappings = append([]Mapping{}, *held...)
	})
	if first {
		args := []any{"method", gw.Method(), "port", m.cfg.Port, "external_ip", ext, "renew_at", next.Format(time.RFC3339)}
		for _, mp := range got {
			args = append(args, mp.Protocol+"_external_port", mp.ExternalPort)
		}
		m.log.Info("port mapped", args...)
	}
	return next, nil
}

// mergeMappings replaces the mappings of held by those of got with the
// same protocol and adds the rest.
func mergeMappings(held, got []Mapping) []Mapping {
	out := append([]Mapping{}, got...)
	for _, h := range held {
		dup := false
		for _, g := range got {
			dup = dup || g.Protocol == h.Protocol
		}
		if !dup {
			out = append(out, h)
		}
	}
	return out
}

// removeAll deletes the mappings at exit.
func (m *Mapper) removeAll(gw Gateway, held []Mapping) {
	var errs []error
	if gw != nil {
		for _, mp := range held {
			ctx, cancel := context.WithTimeout(context.Background(), m.cfg.RequestTimeout)
			err := gw.Delete(ctx, mp.Protocol, uint16(mp.InternalPort), uint16(mp.ExternalPort))
			cancel()
			if err != nil {
				errs = append(errs, fmt.Errorf("delete %s port %d: %w", mp.Protocol, mp.ExternalPort, err))
			}
		}
	}
	err := errors.Join(errs...)
	m.update(func(s *Status) {
		s.State, s.Mappings = StateRemoved, []Mapping{}
		if err != nil {
			s.Error = err.Error()
		}
	})
	if len(held) > 0 && gw != nil {
		if err != nil {
			m.log.Warn("port mapping not removed", "method", gw.Method(), "err", err)
		} else {
			m.log.Info("port mapping removed", "method", gw.Method(), "port", m.cfg.Port)
		}
	}
}

// discover finds a gateway: UPnP first (the commoner), then NAT-PMP.
func (m *Mapper) discover(ctx context.Context) (Gateway, error) {
	var errs []error
	if m.cfg.SSDPAddr != "off" {
		gw, err := discoverUPnP(ctx, m.cfg)
		if err == nil {
			return gw, nil
		}
		errs = append(errs, fmt.Errorf("upnp: %w", err))
	}
	if m.cfg.NATPMPGateway != "off" {
		gw, err := discoverNATPMP(ctx, m.cfg)
		if err == nil {
			return gw, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, errors.New("no method enabled")
	}
	return nil, errors.Join(errs...)
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
