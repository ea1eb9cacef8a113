//go:build !linux

package bindif

import (
	"context"
	"errors"
	"syscall"
)

func contextBackground() context.Context { return context.Background() }

func canBindDevice(string) bool { return false }

func bindDevice(syscall.RawConn, string) error {
	return errors.New("binding to a device is not supported on this system")
}
