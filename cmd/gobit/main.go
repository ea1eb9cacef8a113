// Command gobit is a BitTorrent client.
//
//	gobit serve                                run the daemon with its HTTP API
//	gobit download <magnet|file|URL>           download one torrent in this process
//	gobit info <file|magnet|URL>               show what a .torrent or magnet holds
//	gobit add|ls|rm|pause|resume|recheck|move  control a running daemon
//
// Every flag can also be set with an environment variable GOBIT_<FLAG>
// (upper case, dashes as underscores, e.g. GOBIT_API_TOKEN); a flag given
// on the command line wins over the environment, which wins over the
// default.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

// gcPercent is gobit's default GOGC. Its heap is mostly pointer-free piece
// and block buffers, which the collector does not scan, so collecting more
// often costs little CPU and keeps the resident set near the live data
// (measured for a download, 1 GiB: GOGC 100 → 25 took peak RSS from 42 to
// 35 MiB; with bounded piece buffers, 25 → 10 took it from 26 to 24 MiB
// and made it the same for 256 MiB and 4 GiB; CPU unchanged).
// With many torrents the heap has much to scan, and GOGC is raised for it
// (gctune.go). A GOGC in the environment still wins.
const gcPercent = 10

// procs returns how many processors gobit's goroutines run on, given the
// runtime's default n (the CPUs it may use): half of them, at least one.
// gobit's work is a pipeline of sockets, hashing and disk writes that needs
// well under a core per 500 MiB/s; spread over every processor, each block
// handed from a reader to a torrent's loop wakes another thread and each
// write's system call hands its processor to another thread, and that
// switching cost more than the work (measured on 2 cores with the seeders
// on the same machine, 1 GiB: 2.42 → 1.95 CPU s, no slower). The other
// half is left to the kernel's network and disk work and to other programs.
// A GOMAXPROCS in the environment still wins.
func procs(n int) int {
	return max(1, (n+1)/2)
}

func main() {
	if os.Getenv("GOGC") == "" {
		startGCTuner() // from gcPercent (gctune.go)
	}
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(procs(runtime.GOMAXPROCS(0)))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
