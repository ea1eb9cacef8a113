package bindif

import (
	"context"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

func contextBackground() context.Context { return context.Background() }

// canBindDevice reports whether SO_BINDTODEVICE works for this process
// (it needs CAP_NET_RAW): it tries on a throwaway socket.
func canBindDevice(name string) bool {
	if os.Geteuid() != 0 {
		return false
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, name) == nil
}

func bindDevice(c syscall.RawConn, name string) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, name)
	})
	if err != nil {
		return err
	}
	return serr
}
