//go:build !(linux && (amd64 || arm64))

package diskio

import "errors"

// aio is not available on this platform: direct writes, where the platform
// has them, are synchronous.
type aio struct{}

func newAIO() (*aio, error) { return nil, errors.ErrUnsupported }

func (a *aio) pwrite(fd uintptr, iov [][]byte, off int64) (int, error) { return 0, errAIOFull }

func (a *aio) close() {}

// platformAsync says that this build has no asynchronous direct writes.
const platformAsync Mode = 0
