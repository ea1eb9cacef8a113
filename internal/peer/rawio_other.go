//go:build !linux

package peer

import (
	"io"
	"net"
)

// rawWriter is not used on this platform: peers' sockets are read and
// written through net.Conn.
type rawWriter struct{}

// newRawIO returns nil, nil: use nc's own methods.
func newRawIO(net.Conn) (io.Reader, *rawWriter) { return nil, nil }

func (*rawWriter) writev([][]byte) (int64, error) {
	panic("peer: raw writes on a platform without them")
}
