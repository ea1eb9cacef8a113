//go:build !linux

package peer

import "net"

// rawReader and rawWriter are not used on this platform: peers' sockets
// are read and written through net.Conn.
type (
	rawReader struct{}
	rawWriter struct{}
)

// newRawIO returns nil, nil: use nc's own methods.
func newRawIO(net.Conn) (*rawReader, *rawWriter) { return nil, nil }

func (*rawReader) readv([][]byte) (int, error) {
	panic("peer: raw reads on a platform without them")
}

func (*rawWriter) writev([][]byte) (int64, error) {
	panic("peer: raw writes on a platform without them")
}
