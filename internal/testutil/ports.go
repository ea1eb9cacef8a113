package testutil

import (
	"errors"
	"net"
)

// FreePort returns a port that was free on 127.0.0.1 for both TCP and UDP
// a moment ago (BitTorrent clients use one port number for both). It takes
// no testing.TB so that the swarm benchmark can use it too.
func FreePort() (int, error) {
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		uc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		ln.Close()
		if err != nil {
			continue
		}
		uc.Close()
		return port, nil
	}
	return 0, errors.New("no port free for both TCP and UDP")
}
