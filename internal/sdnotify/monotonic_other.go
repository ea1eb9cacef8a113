//go:build !linux

package sdnotify

// monotonicUsec is only needed where systemd runs.
func monotonicUsec() (uint64, bool) { return 0, false }
