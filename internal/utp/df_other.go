//go:build !linux

package utp

import "net"

// newDFControl: no control of the don't-fragment bit here, so no path-MTU
// discovery (packets stay at safePacket).
func newDFControl(*net.UDPConn) dfControl { return nil }

func isMsgSize(error) bool { return false }
