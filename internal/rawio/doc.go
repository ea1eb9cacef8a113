// Package rawio reads and writes a peer's plain socket with raw vectored
// system calls (readv(2), writev(2)) made inside the runtime poller's
// callbacks.
//
// # What it owns
//
// A Conn owns two small call records, one per direction, each holding its
// iovec array and the results of its last call; it does not own the socket
// (the caller closes it) and keeps no protocol state. The poller still does
// the waiting (readiness, deadlines, Close); only the system call itself is
// raw, so it does not enter the scheduler's system-call state. Why, and
// what it saves, is in rawio_linux.go.
//
// # Imports and rules
//
// rawio is a leaf: it imports only the standard library and
// golang.org/x/sys/unix (system-call numbers, Iovec). It must never parse
// or frame BitTorrent messages, never allocate per call (a call runs 15-20
// thousand times per GiB; TestRawIOAllocatesNothing), never block outside
// the poller's wait, and never be used for a connection that transforms
// its bytes (New refuses anything but *net.TCPConn and *net.UnixConn).
// Where raw calls are not available (not Linux) New returns nil and the
// caller uses the net.Conn's own methods.
//
// # Concurrency
//
// One goroutine may read (Read, ReadVec) while another writes (WriteVec);
// two readers or two writers at once are not allowed. There are no locks.
package rawio

// VecReader reads into bufs in order, as readv(2) does: bufs[0] is filled
// before any byte goes to bufs[1]. It returns the number of bytes read; at
// the end of the stream it returns 0 and io.EOF.
type VecReader interface {
	ReadVec(bufs [][]byte) (int, error)
}

// VecWriter writes all of bufs, in order.
type VecWriter interface {
	WriteVec(bufs [][]byte) (int64, error)
}

// MaxIovecs is the most buffers passed to one readv or writev (the
// kernel's UIO_MAXIOV is 1024); a read takes the first MaxIovecs buffers,
// a write issues as many calls as it needs.
const MaxIovecs = 1024
