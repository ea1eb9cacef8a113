package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/gobit/gobit/internal/mse"
	"github.com/gobit/gobit/internal/wire"
)

// Encryption is the policy for message stream encryption (MSE/PE, package
// mse) on peer connections. Its zero value is EncryptionPrefer.
type Encryption int

// The policies, as libtorrent's out_enc_policy/in_enc_policy define them.
const (
	// EncryptionPrefer dials with the MSE handshake offering RC4 and
	// plaintext, and redials with a plain handshake when the peer does not
	// complete it; it accepts plain and MSE handshakes, and selects RC4
	// when an MSE peer offers it.
	EncryptionPrefer Encryption = iota
	// EncryptionRequire dials and accepts only MSE with RC4: plain
	// handshakes and plaintext-only offers are refused.
	EncryptionRequire
	// EncryptionDisable dials with a plain handshake and refuses incoming
	// MSE handshakes.
	EncryptionDisable
)

// String returns the policy's flag value.
func (e Encryption) String() string {
	switch e {
	case EncryptionPrefer:
		return "prefer"
	case EncryptionRequire:
		return "require"
	case EncryptionDisable:
		return "disable"
	}
	return fmt.Sprintf("encryption(%d)", int(e))
}

// ParseEncryption parses a policy's flag value ("prefer", "require" or
// "disable").
func ParseEncryption(s string) (Encryption, error) {
	for _, e := range []Encryption{EncryptionPrefer, EncryptionRequire, EncryptionDisable} {
		if s == e.String() {
			return e, nil
		}
	}
	return 0, fmt.Errorf("encryption %q: want prefer, require or disable", s)
}

// Errors of the encryption policy.
var (
	// ErrPlainRefused means a plain handshake arrived while encryption is
	// required.
	ErrPlainRefused = errors.New("peer: plain handshake refused: encryption is required")
	// ErrEncryptedRefused means an MSE handshake arrived while encryption
	// is disabled.
	ErrEncryptedRefused = errors.New("peer: encrypted handshake refused: encryption is disabled")
)

// plainPrefix is how every plain handshake starts: its first 20 bytes.
const plainPrefix = "\x13" + wire.Protocol

// Encrypted reports whether nc, a connection Dial, DialPolicy or
// AcceptPolicy returned, carries an RC4-encrypted stream.
func Encrypted(nc net.Conn) bool {
	c, ok := nc.(*mse.Conn)
	return ok && c.Encrypted()
}

// The stream encryptions of an established connection, as StreamCrypto
// names them for the API.
const (
	// CryptoRC4 is an MSE handshake followed by an RC4-encrypted stream.
	CryptoRC4 = "rc4"
	// CryptoPlaintext is an MSE (obfuscated) handshake followed by a plain
	// stream: the handshake hides the protocol, the payload is not
	// encrypted.
	CryptoPlaintext = "plaintext"
	// CryptoNone is a plain BitTorrent handshake and a plain stream.
	CryptoNone = "none"
)

// StreamCrypto names the encryption of nc, a connection Dial, DialPolicy
// or AcceptPolicy returned: CryptoRC4, CryptoPlaintext or CryptoNone.
func StreamCrypto(nc net.Conn) string {
	c, ok := nc.(*mse.Conn)
	switch {
	case !ok:
		return CryptoNone
	case c.Encrypted():
		return CryptoRC4
	}
	return CryptoPlaintext
}

// DialPolicy connects to addr and exchanges handshakes as Dial does, under
// the encryption policy enc. With MSE our handshake travels as the initial
// payload, so encryption costs no extra round trip. Under EncryptionPrefer
// a peer that accepts the TCP connection but fails the MSE handshake is
// dialled again with a plain handshake, with a timeout of its own.
func DialPolicy(ctx context.Context, addr netip.AddrPort, ours wire.Handshake, timeout time.Duration, enc Encryption) (net.Conn, wire.Handshake, error) {
	switch enc {
	case EncryptionDisable:
		return Dial(ctx, addr, ours, timeout)
	case EncryptionRequire:
		nc, hs, _, err := dial(ctx, addr, timeout, encryptedExchange(ours, mse.RC4))
		return nc, hs, err
	}
	nc, hs, connected, err := dial(ctx, addr, timeout, encryptedExchange(ours, mse.RC4|mse.Plaintext))
	if err == nil || !connected || ctx.Err() != nil || errors.Is(err, ErrInfoHashMismatch) {
		return nc, hs, err
	}
	nc, hs, _, perr := dial(ctx, addr, timeout, plainExchange(ours))
	if perr != nil {
		return nil, wire.Handshake{}, fmt.Errorf("%w (encrypted, before: %w)", perr, err)
	}
	return nc, hs, nil
}

// exchange runs a handshake on a fresh connection and returns the stream to
// use from then on.
type exchange func(nc net.Conn) (net.Conn, wire.Handshake, error)

func plainExchange(ours wire.Handshake) exchange {
	return func(nc net.Conn) (net.Conn, wire.Handshake, error) {
		if _, err := nc.Write(ours.AppendTo(nil)); err != nil {
			return nil, wire.Handshake{}, err
		}
		theirs, err := wire.ReadHandshake(nc)
		if err != nil {
			return nil, wire.Handshake{}, err
		}
		if theirs.InfoHash != ours.InfoHash {
			return nil, wire.Handshake{}, ErrInfoHashMismatch
		}
		return nc, theirs, nil
	}
}

func encryptedExchange(ours wire.Handshake, provide mse.Method) exchange {
	return func(nc net.Conn) (net.Conn, wire.Handshake, error) {
		c, err := mse.Initiate(nc, ours.InfoHash, provide, ours.AppendTo(nil))
		if err != nil {
			return nil, wire.Handshake{}, err
		}
		theirs, err := wire.ReadHandshake(c)
		if err != nil {
			return nil, wire.Handshake{}, err
		}
		if theirs.InfoHash != ours.InfoHash {
			return nil, wire.Handshake{}, ErrInfoHashMismatch
		}
		// Still an mse.Conn, so that New can tell the obfuscated
		// handshake from a plain one; New unwraps it.
		return c, theirs, nil
	}
}

// dial connects to addr and runs ex, the dial and the exchange together
// bounded by timeout (and ctx). connected reports whether the TCP
// connection was made.
func dial(ctx context.Context, addr netip.AddrPort, timeout time.Duration, ex exchange) (_ net.Conn, _ wire.Handshake, connected bool, _ error) {
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := dialContext(ctx, "tcp", addr.String())
	if err != nil {
		return nil, wire.Handshake{}, false, err
	}
	deadline, _ := ctx.Deadline()
	nc.SetDeadline(deadline)
	// Cancelling ctx interrupts the exchange at once.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fail := func(err error) (net.Conn, wire.Handshake, bool, error) {
		nc.Close()
		if errors.Is(err, ErrInfoHashMismatch) {
			return nil, wire.Handshake{}, true, err
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
		}
		return nil, wire.Handshake{}, true, fmt.Errorf("handshake: %w", err)
	}
	stream, theirs, err := ex(nc)
	if err != nil {
		return fail(err)
	}
	if !stop() {
		return fail(context.Cause(ctx))
	}
	nc.SetDeadline(time.Time{})
	return stream, theirs, true, nil
}

// AcceptConfig configures AcceptPolicy.
type AcceptConfig struct {
	// Timeout bounds the whole exchange (DefaultHandshakeTimeout if zero).
	Timeout time.Duration
	// Encryption is the policy.
	Encryption Encryption
	// Lookup returns our handshake for an info hash; ok=false refuses the
	// connection (unknown torrent) before anything is sent back.
	Lookup func(infoHash [20]byte) (wire.Handshake, bool)
	// FindInfoHash returns the info hash whose mse.Req2 is req2, for an
	// MSE handshake; ok=false refuses the connection.
	FindInfoHash func(req2 [20]byte) (infoHash [20]byte, ok bool)
}

// AcceptPolicy runs the responder side on an incoming connection under an
// encryption policy: it tells a plain handshake (the 20 bytes every one
// starts with) from an MSE one (anything else), runs the MSE handshake
// when it is one, then the BitTorrent handshake as Accept does. It returns
// the stream to use from then on: nc itself, or an mse.Conn (which New
// unwraps when nothing is left for it to do). The caller closes nc on
// error.
func AcceptPolicy(nc net.Conn, cfg AcceptConfig) (net.Conn, wire.Handshake, error) {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	nc.SetDeadline(time.Now().Add(timeout))
	var first [len(plainPrefix)]byte
	if _, err := io.ReadFull(nc, first[:]); err != nil {
		return nil, wire.Handshake{}, fmt.Errorf("handshake: %w", err)
	}
	var stream *mse.Conn
	var skey [20]byte
	encrypted := string(first[:]) != plainPrefix
	switch {
	case !encrypted && cfg.Encryption == EncryptionRequire:
		return nil, wire.Handshake{}, ErrPlainRefused
	case !encrypted:
		stream = mse.Replay(nc, first[:])
	case cfg.Encryption == EncryptionDisable:
		return nil, wire.Handshake{}, ErrEncryptedRefused
	default:
		// Under prefer, a peer offering both gets plaintext after the
		// obfuscated handshake, as libtorrent does by default (prefer_rc4
		// off): the handshake hides the protocol, and the payload costs no
		// RC4 (about 2.9 CPU s/GiB received, docs/performance.md).
		r := mse.Receiver{Allowed: mse.RC4 | mse.Plaintext, Lookup: cfg.FindInfoHash, PreferPlaintext: true}
		if cfg.Encryption == EncryptionRequire {
			r.Allowed = mse.RC4
		}
		var err error
		if stream, skey, err = r.Accept(nc, first[:]); err != nil {
			return nil, wire.Handshake{}, fmt.Errorf("handshake: %w", err)
		}
	}
	hs, err := respond(stream, cfg.Lookup)
	if err != nil {
		return nil, wire.Handshake{}, err
	}
	if encrypted && hs.InfoHash != skey {
		return nil, wire.Handshake{}, fmt.Errorf("handshake: %w: encrypted for %x, handshake for %x", ErrInfoHashMismatch, skey, hs.InfoHash)
	}
	nc.SetDeadline(time.Time{})
	if !encrypted {
		// The replayed prefix is read: the socket itself.
		return stream.Unwrap(), hs, nil
	}
	return stream, hs, nil
}
