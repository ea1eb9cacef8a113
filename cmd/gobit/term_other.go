//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

// fdCols returns 0: the terminal's width is not known on this system.
func fdCols(uintptr) int { return 0 }
