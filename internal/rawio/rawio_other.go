//go:build !linux

package rawio

import "net"

// Conn is not used on this platform: sockets are read and written through
// net.Conn.
type Conn struct{}

// New returns nil: use nc's own methods.
func New(net.Conn) *Conn { return nil }

// Read panics: New never returns a Conn on this platform.
func (*Conn) Read([]byte) (int, error) { panic("rawio: raw reads on a platform without them") }

// ReadVec panics: New never returns a Conn on this platform.
func (*Conn) ReadVec([][]byte) (int, error) { panic("rawio: raw reads on a platform without them") }

// WriteVec panics: New never returns a Conn on this platform.
func (*Conn) WriteVec([][]byte) (int64, error) {
	panic("rawio: raw writes on a platform without them")
}
