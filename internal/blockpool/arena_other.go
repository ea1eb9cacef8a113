//go:build !linux

package blockpool

// mapArena returns nil: blocks come from the Go heap.
func mapArena(size int) []byte { return nil }

// hugePage is the size of the part of an arena faulted in at its first use.
const hugePage = 2 << 20

// populateArena does nothing: there are no arenas on this platform.
func populateArena([]byte) error { return nil }
