package ratelimit

// PeerLimiter throttles one peer connection against a chain of Limiters per
// direction, for example the torrent's limiter followed by the session's.
// It implements the peer.Limiter interface. Its fields are fixed at creation,
// so it is safe for concurrent use; the Limiters themselves are shared.
type PeerLimiter struct {
	down []*Limiter
	up   []*Limiter
}

// NewPeerLimiter returns a PeerLimiter whose WaitRead waits on every limiter
// in down and whose WaitWrite waits on every limiter in up. Nil entries are
// ignored. The slices are copied.
func NewPeerLimiter(down, up []*Limiter) *PeerLimiter {
	return &PeerLimiter{down: compact(down), up: compact(up)}
}

// compact copies ls without nil entries.
func compact(ls []*Limiter) []*Limiter {
	out := make([]*Limiter, 0, len(ls))
	for _, l := range ls {
		if l != nil {
			out = append(out, l)
		}
	}
	return out
}

// WaitRead blocks until n received bytes may pass every download limiter,
// or until done is closed.
func (p *PeerLimiter) WaitRead(n int, done <-chan struct{}) {
	waitAll(p.down, n, done)
}

// WaitWrite blocks until n bytes to send may pass every upload limiter,
// or until done is closed.
func (p *PeerLimiter) WaitWrite(n int, done <-chan struct{}) {
	waitAll(p.up, n, done)
}

// waitAll charges n bytes to every limiter in ls, chunk by chunk: each chunk
// passes all limiters before the next chunk starts, so a large transfer
// interleaves fairly with other connections on each limiter.
func waitAll(ls []*Limiter, n int, done <-chan struct{}) {
	if len(ls) == 0 {
		return
	}
	if len(ls) == 1 {
		ls[0].Wait(n, done)
		return
	}
	for n > 0 {
		c := min(n, ChunkSize)
		for _, l := range ls {
			l.Wait(c, done)
		}
		select {
		case <-done:
			return
		default:
		}
		n -= c
	}
}
