package peer

import (
	"context"
	"net"
)

// DialFunc opens a stream connection, as net.Dialer.DialContext does: the
// way out that a proxy or a bound interface imposes on peer connections.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

type dialerKey struct{}

// WithDialer returns a context under which Dial and DialPolicy connect
// with d instead of a plain net.Dialer. A nil d changes nothing.
func WithDialer(ctx context.Context, d DialFunc) context.Context {
	if d == nil {
		return ctx
	}
	return context.WithValue(ctx, dialerKey{}, d)
}

// dialContext connects with the context's DialFunc, if any.
func dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if d, ok := ctx.Value(dialerKey{}).(DialFunc); ok {
		return d(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}
