// Package metrics exposes a session's state in the Prometheus text format.
//
// A Collector reads one session.MetricsSnapshot per scrape and turns it
// into constant metrics: nothing runs between scrapes, no goroutine or
// metric object is kept per torrent, and a scrape costs one read of each
// torrent's published snapshot. Handler serves the Collector with Go's
// runtime and process collectors beside it. Every gobit metric name starts
// with "gobit_"; docs/metrics.md lists them.
//
// Imports point one way: metrics reads session (and the dht and torrent
// types of its snapshot); the session knows nothing of Prometheus. The
// counts the snapshot reports are kept where things happen, with atomic
// adds: torrent.Counters (payload bytes, hash failures, protocol and disk
// errors, piece write latency), dht.Server.QueryCounts,
// tracker.Client.AnnounceCounts and torrent.DiskPool.DiskQueue.
package metrics
