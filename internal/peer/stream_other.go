//go:build !linux

package peer

import "net"

// readvFunc returns a read into the first non-empty buffer (no vectored
// reads on this platform: payloads are read into their blocks, following
// messages into the buffer).
func readvFunc(nc net.Conn) func(iovs [][]byte) (int, error) { return readFirst(nc) }
