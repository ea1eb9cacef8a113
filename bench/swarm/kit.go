package main

import "github.com/gobit/gobit/bench/internal/benchkit"

// The pieces shared with the other benchmarks, under the names this
// program uses.
type proc = benchkit.Proc

var (
	// ErrTimeout reports that a wait ran past its deadline.
	ErrTimeout = benchkit.ErrTimeout
	// ErrMismatch reports downloaded data that differs from the payload.
	ErrMismatch = benchkit.ErrMismatch

	startProc      = benchkit.StartProc
	killAll        = benchkit.KillAll
	settleDisk     = benchkit.SettleDisk
	maxRSSFloor    = benchkit.MaxRSSFloor
	rssFloorNote   = benchkit.RSSFloorNote
	ensurePayload  = benchkit.EnsurePayload
	ensureTemplate = benchkit.EnsureTemplate
	runTimeout     = benchkit.RunTimeout
	withAnnounce   = benchkit.WithAnnounce
	infoHash       = benchkit.InfoHash
	verify         = benchkit.Verify
	parseSize      = benchkit.ParseSize
	fmtSize        = benchkit.FmtSize
	median         = benchkit.Median
)
