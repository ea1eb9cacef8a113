//go:build !linux

package storage

// oDirect is 0 where O_DIRECT is not available; direct writes are off.
const oDirect = 0
