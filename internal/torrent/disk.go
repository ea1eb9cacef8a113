package torrent

// DiskPool bounds how many disk jobs (piece hashing and writes, block reads,
// data checks) run at once across a session. Jobs run in their own goroutine
// once a slot is free, so submitting never blocks the caller.
type DiskPool struct {
	sem chan struct{}
}

// NewDiskPool returns a pool running at most n jobs at a time.
func NewDiskPool(n int) *DiskPool {
	if n <= 0 {
		n = 4
	}
	return &DiskPool{sem: make(chan struct{}, n)}
}

// Go runs job when a slot is free.
func (d *DiskPool) Go(job func()) {
	go func() {
		d.sem <- struct{}{}
		defer func() { <-d.sem }()
		job()
	}()
}
