// Package benchkit holds what the benchmarks in bench/ share: child
// processes that are killed on every exit path and measured from their
// rusage (CPU, peak RSS), the pseudo-random payload and its .torrent
// (made with mktorrent), byte-for-byte verification, opentracker's files
// and command line, and the libtorrent peer script (LTPeerScript).
//
// It is for the benchmark programs only; nothing in gobit imports it.
package benchkit

import _ "embed"

// LTPeerScript is ltpeer.py, a libtorrent seeder or leecher driven by
// command-line flags and stdin (see its docstring). Write it to a file and
// run it with an interpreter that has python3-libtorrent.
//
//go:embed ltpeer.py
var LTPeerScript []byte
