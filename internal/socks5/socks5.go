// Package socks5 is a SOCKS version 5 client (RFC 1928) with
// username/password authentication (RFC 1929): CONNECT for TCP streams
// and UDP ASSOCIATE for datagrams (PacketConn, one association; and
// Association, which associates again with backoff whenever the proxy
// refuses or ends it, and meanwhile drops datagrams rather than send them
// any other way).
//
// Datagrams from the relay are taken only whole and well-formed: a
// datagram from any address but the relay's, with a non-zero RSV, a
// fragment (FRAG != 0; this client does not reassemble), a source named by
// domain or a header running past the end is dropped. Buffers are bounded
// (a datagram is at most 65,535 bytes plus its header) and pooled.
//
// Host names are sent to the proxy unresolved (address type DOMAINNAME),
// so the proxy, not this host, resolves them: nothing leaks through the
// local resolver. Every exchange with the proxy is bounded by the
// caller's context and by HandshakeTimeout; replies are read with fixed
// bounds (a domain is at most 255 bytes).
package socks5

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"time"
)

// Protocol constants (RFC 1928, 1929).
const (
	version        = 5
	authNone       = 0
	authPassword   = 2
	authNoAccept   = 0xff
	cmdConnect     = 1
	cmdUDP         = 3
	atypIPv4       = 1
	atypDomain     = 3
	atypIPv6       = 4
	passwordVer    = 1
	maxCredential  = 255
	defaultTimeout = 15 * time.Second
)

// Errors a caller can test with errors.Is.
var (
	// ErrAuthFailed means the proxy rejected the username and password.
	ErrAuthFailed = errors.New("socks5: the proxy rejected the username/password")
	// ErrAuthRequired means the proxy accepts none of the offered
	// methods: it wants credentials that were not given (or a method
	// this client does not have).
	ErrAuthRequired = errors.New("socks5: the proxy requires authentication this client was not given")
	// ErrUDPNotSupported means the proxy refused UDP ASSOCIATE.
	ErrUDPNotSupported = errors.New("socks5: the proxy does not support UDP ASSOCIATE")
)

// ReplyError is a proxy's refusal of a request (a reply code other than
// success).
type ReplyError struct {
	Code byte
}

var replyText = map[byte]string{
	1: "general SOCKS server failure",
	2: "connection not allowed by ruleset",
	3: "network unreachable",
	4: "host unreachable",
	5: "connection refused",
	6: "TTL expired",
	7: "command not supported",
	8: "address type not supported",
}

// Error implements error.
func (e *ReplyError) Error() string {
	if t, ok := replyText[e.Code]; ok {
		return "socks5: proxy: " + t
	}
	return fmt.Sprintf("socks5: proxy: reply code %d", e.Code)
}

// Proxy is a SOCKS5 proxy and the credentials to use with it.
type Proxy struct {
	// Addr is the proxy's host:port.
	Addr string
	// User and Password, when User is not empty, are sent with RFC 1929
	// authentication.
	User, Password string
	// Dial connects to the proxy itself; a net.Dialer if nil. (A bound
	// interface supplies one.)
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// ListenUDP opens the local socket of a UDP association;
	// net.ListenUDP if nil.
	ListenUDP func(network string, laddr *net.UDPAddr) (*net.UDPConn, error)
	// HandshakeTimeout bounds each exchange with the proxy (15 s if zero).
	HandshakeTimeout time.Duration
}

// ParseURL parses "socks5://[user:password@]host:port" (socks5h is taken
// as a synonym: host names always go to the proxy unresolved).
func ParseURL(s string) (*Proxy, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("socks5: proxy URL: %w", err)
	}
	if u.Scheme != "socks5" && u.Scheme != "socks5h" {
		return nil, fmt.Errorf("socks5: proxy URL %q: the scheme must be socks5", u.Redacted())
	}
	if u.Hostname() == "" || u.Port() == "" {
		return nil, fmt.Errorf("socks5: proxy URL %q: want socks5://host:port", u.Redacted())
	}
	if p, err := strconv.Atoi(u.Port()); err != nil || p <= 0 || p > 65535 {
		return nil, fmt.Errorf("socks5: proxy URL %q: bad port", u.Redacted())
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("socks5: proxy URL %q: unexpected path", u.Redacted())
	}
	p := &Proxy{Addr: u.Host}
	if u.User != nil {
		p.User = u.User.Username()
		p.Password, _ = u.User.Password()
		if p.User == "" || len(p.User) > maxCredential || len(p.Password) > maxCredential {
			return nil, fmt.Errorf("socks5: proxy URL %q: username and password must be 1–255 and 0–255 bytes", u.Redacted())
		}
	}
	return p, nil
}

// String returns the proxy's URL without its password.
func (p *Proxy) String() string {
	u := url.URL{Scheme: "socks5", Host: p.Addr}
	if p.User != "" {
		u.User = url.User(p.User)
	}
	return u.String()
}

func (p *Proxy) timeout() time.Duration {
	if p.HandshakeTimeout > 0 {
		return p.HandshakeTimeout
	}
	return defaultTimeout
}

// connect opens a control connection to the proxy and authenticates.
func (p *Proxy) connect(ctx context.Context) (net.Conn, error) {
	dial := p.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	c, err := dial(ctx, "tcp", p.Addr)
	if err != nil {
		return nil, fmt.Errorf("socks5: connect to proxy %s: %w", p.Addr, err)
	}
	if err := p.greet(ctx, c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// deadline sets c's deadline from ctx and the handshake timeout, and
// interrupts c when ctx is cancelled; the returned func undoes both.
func (p *Proxy) deadline(ctx context.Context, c net.Conn) func() {
	d := time.Now().Add(p.timeout())
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	c.SetDeadline(d)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	return func() {
		stop()
		c.SetDeadline(time.Time{})
	}
}

func (p *Proxy) greet(ctx context.Context, c net.Conn) error {
	defer p.deadline(ctx, c)()
	methods := []byte{version, 1, authNone}
	if p.User != "" {
		methods = []byte{version, 2, authNone, authPassword}
	}
	if _, err := c.Write(methods); err != nil {
		return fmt.Errorf("socks5: greeting: %w", err)
	}
	var sel [2]byte
	if _, err := io.ReadFull(c, sel[:]); err != nil {
		return fmt.Errorf("socks5: greeting: %w", ctxErr(ctx, err))
	}
	if sel[0] != version {
		return fmt.Errorf("socks5: %s is not a SOCKS5 proxy (version byte %d)", p.Addr, sel[0])
	}
	switch sel[1] {
	case authNone:
		return nil
	case authPassword:
		if p.User == "" {
			return ErrAuthRequired
		}
		msg := []byte{passwordVer, byte(len(p.User))}
		msg = append(msg, p.User...)
		msg = append(msg, byte(len(p.Password)))
		msg = append(msg, p.Password...)
		if _, err := c.Write(msg); err != nil {
			return fmt.Errorf("socks5: authentication: %w", err)
		}
		var st [2]byte
		if _, err := io.ReadFull(c, st[:]); err != nil {
			return fmt.Errorf("socks5: authentication: %w", ctxErr(ctx, err))
		}
		if st[1] != 0 {
			return ErrAuthFailed
		}
		return nil
	case authNoAccept:
		if p.User != "" {
			return ErrAuthFailed
		}
		return ErrAuthRequired
	}
	return fmt.Errorf("socks5: the proxy chose an authentication method not offered (%d)", sel[1])
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%w)", err, context.Cause(ctx))
	}
	return err
}

// request sends a command for addr and reads the reply's bound address.
func (p *Proxy) request(ctx context.Context, c net.Conn, cmd byte, addr string) (netip.AddrPort, error) {
	defer p.deadline(ctx, c)()
	msg, err := appendAddr([]byte{version, cmd, 0}, addr)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if _, err := c.Write(msg); err != nil {
		return netip.AddrPort{}, fmt.Errorf("socks5: request: %w", err)
	}
	var hdr [3]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return netip.AddrPort{}, fmt.Errorf("socks5: reply: %w", ctxErr(ctx, err))
	}
	if hdr[0] != version {
		return netip.AddrPort{}, fmt.Errorf("socks5: reply with version %d", hdr[0])
	}
	bound, _, err := readAddr(c)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("socks5: reply: %w", err)
	}
	if hdr[1] != 0 {
		if cmd == cmdUDP && hdr[1] == 7 {
			return netip.AddrPort{}, ErrUDPNotSupported
		}
		return netip.AddrPort{}, &ReplyError{Code: hdr[1]}
	}
	return bound, nil
}

// DialContext connects to addr ("host:port") through the proxy with
// CONNECT. network must be tcp, tcp4 or tcp6. A host name is resolved by
// the proxy.
func (p *Proxy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("socks5: cannot CONNECT over %s", network)
	}
	c, err := p.connect(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := p.request(ctx, c, cmdConnect, addr); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w (connecting to %s through %s)", err, addr, p.Addr)
	}
	return &conn{Conn: c, remote: addr}, nil
}

// conn is a proxied stream; its RemoteAddr is the target's, when the
// target was named by an IP address.
type conn struct {
	net.Conn
	remote string
}

// RemoteAddr returns the target's address (not the proxy's) when it is an
// IP address, else the proxy connection's.
func (c *conn) RemoteAddr() net.Addr {
	if ap, err := netip.ParseAddrPort(c.remote); err == nil {
		return net.TCPAddrFromAddrPort(ap)
	}
	return c.Conn.RemoteAddr()
}

// appendAddr appends addr in SOCKS form (ATYP, address, port).
func appendAddr(b []byte, addr string) ([]byte, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("socks5: address %q: %w", addr, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("socks5: address %q: bad port", addr)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap()
		if ip.Is4() {
			b = append(b, atypIPv4)
		} else {
			b = append(b, atypIPv6)
		}
		b = append(b, ip.AsSlice()...)
	} else {
		if len(host) == 0 || len(host) > 255 {
			return nil, fmt.Errorf("socks5: host name %q: 1–255 bytes", host)
		}
		b = append(b, atypDomain, byte(len(host)))
		b = append(b, host...)
	}
	return binary.BigEndian.AppendUint16(b, uint16(port)), nil
}

// readAddr reads ATYP, address and port from r. A domain comes back in
// name (addr invalid).
func readAddr(r io.Reader) (addr netip.AddrPort, name string, err error) {
	var t [1]byte
	if _, err := io.ReadFull(r, t[:]); err != nil {
		return addr, "", err
	}
	var host []byte
	switch t[0] {
	case atypIPv4:
		host = make([]byte, 4)
	case atypIPv6:
		host = make([]byte, 16)
	case atypDomain:
		var n [1]byte
		if _, err := io.ReadFull(r, n[:]); err != nil {
			return addr, "", err
		}
		host = make([]byte, n[0])
	default:
		return addr, "", fmt.Errorf("address type %d", t[0])
	}
	if _, err := io.ReadFull(r, host); err != nil {
		return addr, "", err
	}
	var pb [2]byte
	if _, err := io.ReadFull(r, pb[:]); err != nil {
		return addr, "", err
	}
	port := binary.BigEndian.Uint16(pb[:])
	if t[0] == atypDomain {
		return netip.AddrPort{}, net.JoinHostPort(string(host), strconv.Itoa(int(port))), nil
	}
	ip, _ := netip.AddrFromSlice(host)
	return netip.AddrPortFrom(ip.Unmap(), port), "", nil
}
