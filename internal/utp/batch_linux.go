package utp

import (
	"encoding/binary"

	"net/netip"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchSize is how many datagrams one recvmmsg(2) reads at most: the
// packets that queued up while the reader was busy are then handled under
// one lock, and each connection acknowledges them with one ACK.
const batchSize = 16

// mmsghdr is struct mmsghdr (the C layout: the Go alignment rules give the
// same size and padding on 32- and 64-bit platforms).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// batchReader reads datagrams with recvmmsg(2) through the runtime's
// poller.
type batchReader struct {
	s     *Socket
	rc    syscall.RawConn
	msgs  [batchSize]mmsghdr
	iovs  [batchSize]unix.Iovec
	names [batchSize]unix.RawSockaddrInet6
	oobs  [batchSize][64]byte
	bufs  [batchSize]*[]byte
}

// newBatchReader returns a reader of s.udp, or nil when there is none.
func newBatchReader(s *Socket) *batchReader {
	if s.udp == nil {
		return nil
	}
	rc, err := s.udp.SyscallConn()
	if err != nil {
		return nil
	}
	return &batchReader{s: s, rc: rc}
}

// read fills out (at least batchSize long) with the datagrams waiting, at
// least one, and returns how many.
func (r *batchReader) read(out []packet) (int, error) {
	for i := range batchSize {
		if r.bufs[i] == nil {
			r.bufs[i] = r.s.bufs.Get().(*[]byte)
		}
		b := *r.bufs[i]
		r.iovs[i].Base = &b[0]
		r.iovs[i].SetLen(len(b))
		h := &r.msgs[i].hdr
		*h = unix.Msghdr{}
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Namelen = uint32(unsafe.Sizeof(r.names[i]))
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
		if r.s.stamps {
			h.Control = &r.oobs[i][0]
			h.SetControllen(len(r.oobs[i]))
		}
		r.msgs[i].n = 0
	}
	var n int
	var errno syscall.Errno
	err := r.rc.Read(func(fd uintptr) bool {
		for {
			r1, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.msgs[0])), batchSize, 0, 0, 0)
			switch e {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false // wait until readable
			}
			n, errno = int(r1), e
			return true
		}
	})
	if err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, os.NewSyscallError("recvmmsg", errno)
	}
	k := 0
	for i := range n {
		m := &r.msgs[i]
		addr := sockaddrAddrPort(&r.names[i], m.hdr.Namelen)
		if !addr.IsValid() || m.hdr.Flags&unix.MSG_TRUNC != 0 {
			continue // the buffer is reused
		}
		var at uint32
		if r.s.stamps {
			at = r.s.microAt(parseTimestamp(r.oobs[i][:min(int(m.hdr.Controllen), len(r.oobs[i]))]))
		} else {
			at = r.s.nowMicro()
		}
		out[k] = packet{buf: r.bufs[i], n: int(m.n), addr: addr, at: at}
		r.bufs[i] = nil
		k++
	}
	return k, nil
}

// close returns the buffers to the pool.
func (r *batchReader) close() {
	for i, b := range r.bufs {
		if b != nil {
			r.s.bufs.Put(b)
			r.bufs[i] = nil
		}
	}
}

// sockaddrAddrPort decodes a struct sockaddr_in or sockaddr_in6.
func sockaddrAddrPort(sa *unix.RawSockaddrInet6, n uint32) netip.AddrPort {
	b := (*[unix.SizeofSockaddrInet6]byte)(unsafe.Pointer(sa))
	family := binary.NativeEndian.Uint16(b[0:2])
	port := binary.BigEndian.Uint16(b[2:4])
	switch {
	case family == unix.AF_INET && n >= unix.SizeofSockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port)
	case family == unix.AF_INET6 && n >= unix.SizeofSockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), port)
	}
	return netip.AddrPort{}
}
