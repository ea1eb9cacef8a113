package mse

import (
	"bytes"
	"crypto/rand"
	"crypto/rc4"
	"encoding/binary"
	"fmt"
	"io"
	"net"
)

// vc is the verification constant: eight zero bytes.
var vc [8]byte

// randomSource supplies private keys and pads; tests replace it to replay a
// handshake.
type randomSource func(b []byte)

func cryptoRandom(b []byte) { rand.Read(b) }

// padLen draws a pad length in [0, maxPad].
func padLen(random randomSource) int {
	var b [2]byte
	random(b[:])
	return int(binary.BigEndian.Uint16(b[:])) % (maxPad + 1)
}

// stream reads the handshake: bytes received beyond what was consumed stay
// in buf and end up as the Conn's first reads.
type stream struct {
	nc  net.Conn
	buf []byte
}

// readFull fills p from the buffer, then from the connection.
func (s *stream) readFull(p []byte) error {
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	if n == len(p) {
		return nil
	}
	_, err := io.ReadFull(s.nc, p[n:])
	return err
}

// syncOn consumes the stream up to and including the first occurrence of
// pattern, which must end within the first limit bytes.
func (s *stream) syncOn(pattern []byte, limit int) error {
	win := make([]byte, 0, limit)
	win = append(win, s.buf[:min(len(s.buf), limit)]...)
	s.buf = s.buf[len(win):]
	for {
		if i := bytes.Index(win, pattern); i >= 0 {
			rest := win[i+len(pattern):]
			s.buf = append(append([]byte(nil), rest...), s.buf...)
			return nil
		}
		if len(win) == limit {
			return fmt.Errorf("%w within %d bytes", ErrSync, limit)
		}
		n, err := s.nc.Read(win[len(win):limit])
		win = win[:len(win)+n]
		if err != nil && n == 0 {
			return fmt.Errorf("mse: waiting for the synchronisation pattern: %w", err)
		}
	}
}

// Initiate runs the initiator's side of the handshake on nc for the torrent
// skey (its info hash), offering the methods in provide, and sends ia (at
// most 65535 bytes; gobit's BitTorrent handshake) as the initial payload.
// The caller bounds the exchange with nc's deadline. On error nc is left
// open for the caller to close.
func Initiate(nc net.Conn, skey [20]byte, provide Method, ia []byte) (*Conn, error) {
	return initiate(nc, skey, provide, ia, cryptoRandom)
}

func initiate(nc net.Conn, skey [20]byte, provide Method, ia []byte, random randomSource) (*Conn, error) {
	provide &= Plaintext | RC4
	if provide == 0 {
		return nil, fmt.Errorf("%w: nothing to offer", ErrNoCommonMethod)
	}
	if len(ia) > 0xffff {
		return nil, fmt.Errorf("mse: initial payload of %d bytes is too long", len(ia))
	}
	var priv [privBits / 8]byte
	random(priv[:])
	key := newPrivateKey(priv[:])

	// 1: Ya, PadA.
	out := make([]byte, 0, keyLen+maxPad)
	out = append(out, key.pub[:]...)
	pad := make([]byte, padLen(random))
	random(pad)
	out = append(out, pad...)
	if _, err := nc.Write(out); err != nil {
		return nil, fmt.Errorf("mse: sending Ya: %w", err)
	}

	// 2: Yb (PadB is skipped by the search for VC below).
	st := &stream{nc: nc}
	var yb [keyLen]byte
	if err := st.readFull(yb[:]); err != nil {
		return nil, fmt.Errorf("mse: reading Yb: %w", err)
	}
	s, err := key.secret(yb[:])
	if err != nil {
		return nil, err
	}
	enc := newCipher("keyA", s[:], skey)
	dec := newCipher("keyB", s[:], skey)

	// 3: the hashes, then ENCRYPT(VC, crypto_provide, len(PadC), PadC,
	// len(IA)), ENCRYPT(IA).
	req1 := hash([]byte("req1"), s[:])
	req2 := Req2(skey)
	req3 := hash([]byte("req3"), s[:])
	out = out[:0]
	out = append(out, req1[:]...)
	for i := range req2 {
		out = append(out, req2[i]^req3[i])
	}
	secret := len(out)
	out = append(out, vc[:]...)
	out = binary.BigEndian.AppendUint32(out, uint32(provide))
	padC := padLen(random)
	out = binary.BigEndian.AppendUint16(out, uint16(padC))
	out = append(out, make([]byte, padC)...) // zeros: encrypted below
	out = binary.BigEndian.AppendUint16(out, uint16(len(ia)))
	out = append(out, ia...)
	enc.XORKeyStream(out[secret:], out[secret:])
	if _, err := nc.Write(out); err != nil {
		return nil, fmt.Errorf("mse: sending the crypto offer: %w", err)
	}

	// 4: find ENCRYPT(VC) past Yb and PadB, then read crypto_select,
	// len(PadD), PadD.
	var want [8]byte
	dec.XORKeyStream(want[:], vc[:])
	if err := st.syncOn(want[:], maxVCSync-keyLen); err != nil {
		return nil, err
	}
	var hdr [6]byte
	if err := st.readFull(hdr[:]); err != nil {
		return nil, fmt.Errorf("mse: reading the crypto selection: %w", err)
	}
	dec.XORKeyStream(hdr[:], hdr[:])
	sel := Method(binary.BigEndian.Uint32(hdr[:4]))
	if sel != Plaintext && sel != RC4 || sel&provide == 0 {
		return nil, fmt.Errorf("%w: selected %s, offered %s", ErrProtocol, sel, provide)
	}
	padD := int(binary.BigEndian.Uint16(hdr[4:]))
	if padD > maxPad {
		return nil, fmt.Errorf("%w: PadD of %d bytes", ErrProtocol, padD)
	}
	skip := make([]byte, padD)
	if err := st.readFull(skip); err != nil {
		return nil, fmt.Errorf("mse: reading PadD: %w", err)
	}
	dec.XORKeyStream(skip, skip)
	return newConn(nc, sel, enc, dec, nil, st.buf), nil
}

// newConn returns the stream after the handshake. pending is plaintext
// already received; rest was received raw after the handshake and is
// decrypted here when the method is RC4.
func newConn(nc net.Conn, m Method, enc, dec *rc4.Cipher, pending, rest []byte) *Conn {
	c := &Conn{Conn: nc, method: m}
	buf := append(pending, rest...)
	if m == RC4 {
		c.enc, c.dec = enc, dec
		c.dec.XORKeyStream(buf[len(pending):], buf[len(pending):])
	}
	if len(buf) > 0 {
		c.pending = buf
	}
	return c
}

// Receiver is the accepting side's configuration.
type Receiver struct {
	// Allowed is the set of methods accepted (Plaintext, RC4 or both).
	Allowed Method
	// PreferPlaintext selects plaintext when the initiator offers both;
	// otherwise RC4 is selected.
	PreferPlaintext bool
	// Lookup returns the info hash of the torrent whose Req2 is req2, and
	// false when no torrent matches (the handshake then fails with
	// ErrUnknownTorrent). It is called once per handshake.
	Lookup func(req2 [20]byte) (skey [20]byte, ok bool)
}

// Accept runs the receiver's side of the handshake on nc. prefix holds the
// bytes already read from nc (to tell MSE from a plain handshake; at most
// the length of Ya). It returns the stream, whose first reads return the
// initiator's initial payload, and the torrent's info hash. The caller
// bounds the exchange with nc's deadline. On error nc is left open for the
// caller to close.
func (r Receiver) Accept(nc net.Conn, prefix []byte) (*Conn, [20]byte, error) {
	return r.accept(nc, prefix, cryptoRandom)
}

func (r Receiver) accept(nc net.Conn, prefix []byte, random randomSource) (*Conn, [20]byte, error) {
	var skey [20]byte
	allowed := r.Allowed & (Plaintext | RC4)
	if allowed == 0 || r.Lookup == nil {
		return nil, skey, fmt.Errorf("%w: the receiver allows no method", ErrNoCommonMethod)
	}
	if len(prefix) > keyLen {
		return nil, skey, fmt.Errorf("mse: a prefix of %d bytes is longer than Ya", len(prefix))
	}
	st := &stream{nc: nc, buf: prefix}

	// 1: Ya.
	var ya [keyLen]byte
	if err := st.readFull(ya[:]); err != nil {
		return nil, skey, fmt.Errorf("mse: reading Ya: %w", err)
	}
	var priv [privBits / 8]byte
	random(priv[:])
	key := newPrivateKey(priv[:])
	s, err := key.secret(ya[:])
	if err != nil {
		return nil, skey, err
	}

	// 2: Yb, PadB.
	out := make([]byte, 0, keyLen+maxPad)
	out = append(out, key.pub[:]...)
	pad := make([]byte, padLen(random))
	random(pad)
	out = append(out, pad...)
	if _, err := nc.Write(out); err != nil {
		return nil, skey, fmt.Errorf("mse: sending Yb: %w", err)
	}

	// 3: find HASH('req1', S) past PadA, then the torrent.
	req1 := hash([]byte("req1"), s[:])
	if err := st.syncOn(req1[:], maxReq1Sync-keyLen); err != nil {
		return nil, skey, err
	}
	var x [20]byte
	if err := st.readFull(x[:]); err != nil {
		return nil, skey, fmt.Errorf("mse: reading the torrent hash: %w", err)
	}
	req3 := hash([]byte("req3"), s[:])
	for i := range x {
		x[i] ^= req3[i]
	}
	skey, ok := r.Lookup(x)
	if !ok {
		return nil, skey, ErrUnknownTorrent
	}
	dec := newCipher("keyA", s[:], skey)
	enc := newCipher("keyB", s[:], skey)

	var hdr [14]byte // VC, crypto_provide, len(PadC)
	if err := st.readFull(hdr[:]); err != nil {
		return nil, skey, fmt.Errorf("mse: reading the crypto offer: %w", err)
	}
	dec.XORKeyStream(hdr[:], hdr[:])
	if !bytes.Equal(hdr[:8], vc[:]) {
		return nil, skey, fmt.Errorf("%w: bad verification constant", ErrProtocol)
	}
	provide := Method(binary.BigEndian.Uint32(hdr[8:12]))
	padC := int(binary.BigEndian.Uint16(hdr[12:14]))
	if padC > maxPad {
		return nil, skey, fmt.Errorf("%w: PadC of %d bytes", ErrProtocol, padC)
	}
	padAndLen := make([]byte, padC+2) // PadC, len(IA)
	if err := st.readFull(padAndLen); err != nil {
		return nil, skey, fmt.Errorf("mse: reading PadC: %w", err)
	}
	dec.XORKeyStream(padAndLen, padAndLen)
	ia := make([]byte, binary.BigEndian.Uint16(padAndLen[padC:]))
	if err := st.readFull(ia); err != nil {
		return nil, skey, fmt.Errorf("mse: reading the initial payload: %w", err)
	}
	dec.XORKeyStream(ia, ia)

	sel := selectMethod(provide&allowed, r.PreferPlaintext)
	if sel == 0 {
		return nil, skey, fmt.Errorf("%w: offered %s, allowed %s", ErrNoCommonMethod, provide, allowed)
	}

	// 4: ENCRYPT(VC, crypto_select, len(PadD), PadD).
	padD := padLen(random)
	out = out[:0]
	out = append(out, vc[:]...)
	out = binary.BigEndian.AppendUint32(out, uint32(sel))
	out = binary.BigEndian.AppendUint16(out, uint16(padD))
	out = append(out, make([]byte, padD)...)
	enc.XORKeyStream(out, out)
	if _, err := nc.Write(out); err != nil {
		return nil, skey, fmt.Errorf("mse: sending the crypto selection: %w", err)
	}
	return newConn(nc, sel, enc, dec, ia, st.buf), skey, nil
}

// selectMethod picks one method of the common set.
func selectMethod(common Method, preferPlaintext bool) Method {
	switch {
	case common&(Plaintext|RC4) == Plaintext|RC4 && preferPlaintext:
		return Plaintext
	case common&RC4 != 0:
		return RC4
	case common&Plaintext != 0:
		return Plaintext
	}
	return 0
}
