package torrent

import (
	"sync"
	"time"
)

// DiskPool bounds how many disk jobs (piece hashing and writes, block reads,
// data checks) run at once across a session. Submitting never blocks the
// caller: a job goes to an idle worker, to a new one while there are fewer
// than the bound, or else to a queue that the workers drain in order.
//
// Workers are kept for a while when idle (workerLinger), and the one idle
// the shortest gets the next job. A goroutine started per job would begin
// each piece's hash and write on a small stack and grow it by copying,
// which the profile showed at 1 % of a download's CPU; a reused worker's
// stack has already grown.
type DiskPool struct {
	max    int
	linger time.Duration // workerLinger, shorter in tests

	mu      sync.Mutex
	workers int
	idle    []chan func() // each idle worker's hand-off channel (capacity 1)
	queue   []func()
}

// workerLinger is how long an idle worker waits for a job before it exits.
const workerLinger = 10 * time.Second

// NewDiskPool returns a pool running at most n jobs at a time.
func NewDiskPool(n int) *DiskPool {
	if n <= 0 {
		n = 4
	}
	return &DiskPool{max: n, linger: workerLinger}
}

// Go runs job when a worker is free.
func (d *DiskPool) Go(job func()) {
	d.mu.Lock()
	if n := len(d.idle); n > 0 {
		ch := d.idle[n-1]
		d.idle[n-1] = nil
		d.idle = d.idle[:n-1]
		d.mu.Unlock()
		ch <- job // capacity 1 and handed out once: never blocks
		return
	}
	if d.workers < d.max {
		d.workers++
		d.mu.Unlock()
		go d.work(job)
		return
	}
	d.queue = append(d.queue, job)
	d.mu.Unlock()
}

// work runs job, then queued jobs and jobs handed to it, until it has been
// idle for workerLinger.
func (d *DiskPool) work(job func()) {
	ch := make(chan func(), 1)
	linger := time.NewTimer(d.linger)
	defer linger.Stop()
	for {
		job()
		d.mu.Lock()
		if len(d.queue) > 0 {
			job = d.queue[0]
			d.queue[0] = nil
			d.queue = d.queue[1:]
			d.mu.Unlock()
			continue
		}
		d.idle = append(d.idle, ch)
		d.mu.Unlock()
		linger.Reset(d.linger)
		select {
		case job = <-ch:
			continue
		case <-linger.C:
		}
		d.mu.Lock()
		for i, c := range d.idle {
			if c == ch { // still idle: leave
				d.idle = append(d.idle[:i], d.idle[i+1:]...)
				d.workers--
				d.mu.Unlock()
				return
			}
		}
		d.mu.Unlock()
		job = <-ch // Go took this worker as the timer fired: its job is coming
	}
}
