package utp

// dfMode is how a datagram may be fragmented on its way.
type dfMode int

const (
	// dfDefault is the socket's own mode (the kernel's default).
	dfDefault dfMode = iota
	// dfProbe sets don't-fragment and ignores what the kernel knows of
	// the path: a path-MTU probe, lost when the path is narrower.
	dfProbe
	// dfFragment lets the datagram be fragmented: the retransmission of
	// a packet larger than the path is known to take.
	dfFragment
)

// dfControl switches a socket's don't-fragment mode around a send (the
// platform's; nil where it cannot be controlled, and then no path-MTU
// discovery is done).
type dfControl interface {
	set(m dfMode) error
}
