//go:build !(linux && (amd64 || arm64))

package storage

import "errors"

// aio is not available on this platform: direct writes, where the platform
// has them, are synchronous.
type aio struct{}

func newAIO() (*aio, error) { return nil, errors.ErrUnsupported }

func (a *aio) pwrite(fd uintptr, iov [][]byte, off int64) (int, error) { return 0, errAIOFull }

func (a *aio) close() {}

// aioSupported reports whether this build has asynchronous direct writes.
const aioSupported = false
