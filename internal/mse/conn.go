package mse

import (
	"crypto/rc4"
	"net"
	"sync"
)

// writeChunk bounds the scratch buffer a Conn encrypts outgoing bytes into.
const writeChunk = 64 << 10

// Conn is a connection after the MSE handshake: reads return first the
// payload already received during the handshake (the initiator's IA on the
// receiving side, anything that followed), then the stream, decrypted when
// the method is RC4; writes are encrypted when it is RC4. Reads may run
// concurrently with writes; each direction is serialized by its own mutex.
type Conn struct {
	net.Conn
	method Method

	rmu     sync.Mutex
	dec     *rc4.Cipher // nil for Plaintext
	pending []byte      // received plaintext not yet read

	wmu  sync.Mutex
	enc  *rc4.Cipher // nil for Plaintext
	wbuf []byte
	vec  net.Buffers
}

// Replay returns a Conn that reads prefix before the rest of nc, unencrypted:
// for a plain BitTorrent handshake whose first bytes were read to tell it
// from MSE.
func Replay(nc net.Conn, prefix []byte) *Conn {
	return &Conn{Conn: nc, method: Plaintext, pending: append([]byte(nil), prefix...)}
}

// Method returns the method the handshake selected (Plaintext or RC4).
func (c *Conn) Method() Method { return c.method }

// Encrypted reports whether the payload stream is RC4-encrypted.
func (c *Conn) Encrypted() bool { return c.method == RC4 }

// Unwrap returns the underlying connection when nothing is left for the Conn
// to do (plaintext, and every byte received during the handshake read), so
// that the caller may use the socket directly; otherwise it returns c.
func (c *Conn) Unwrap() net.Conn {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.method == Plaintext && len(c.pending) == 0 {
		return c.Conn
	}
	return c
}

// Read reads decrypted payload.
func (c *Conn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		if len(c.pending) == 0 {
			c.pending = nil
		}
		return n, nil
	}
	n, err := c.Conn.Read(p)
	if c.dec != nil && n > 0 {
		c.dec.XORKeyStream(p[:n], p[:n])
	}
	return n, err
}

// Write encrypts p (into a scratch buffer: p is not modified) and writes it.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.enc == nil {
		return c.Conn.Write(p)
	}
	if cap(c.wbuf) < writeChunk {
		c.wbuf = make([]byte, 0, writeChunk)
	}
	done := 0
	for done < len(p) {
		n := min(len(p)-done, writeChunk)
		c.wbuf = c.wbuf[:n]
		c.enc.XORKeyStream(c.wbuf, p[done:done+n])
		w, err := c.Conn.Write(c.wbuf)
		done += w
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// WriteVec writes the buffers in order as one stream: plaintext with one
// vectored write, RC4 gathered into few large writes. The buffers are not
// modified.
func (c *Conn) WriteVec(bufs [][]byte) (int64, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.enc == nil {
		c.vec = append(c.vec[:0], bufs...)
		v := c.vec // WriteTo consumes v, not bufs
		n, err := v.WriteTo(c.Conn)
		clear(c.vec)
		return n, err
	}
	if cap(c.wbuf) < writeChunk {
		c.wbuf = make([]byte, 0, writeChunk)
	}
	var total int64
	c.wbuf = c.wbuf[:0]
	for i, b := range bufs {
		for len(b) > 0 {
			at := len(c.wbuf)
			n := min(len(b), writeChunk-at)
			c.wbuf = c.wbuf[:at+n]
			c.enc.XORKeyStream(c.wbuf[at:], b[:n])
			b = b[n:]
			if len(c.wbuf) == writeChunk || len(b) == 0 && i == len(bufs)-1 {
				n, err := c.Conn.Write(c.wbuf)
				total += int64(n)
				c.wbuf = c.wbuf[:0]
				if err != nil {
					return total, err
				}
			}
		}
	}
	return total, nil
}
