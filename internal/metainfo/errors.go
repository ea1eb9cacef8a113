package metainfo

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by Parse, ParseInfo, Load and
// Info.Validate for a malformed torrent matches ErrInvalid with errors.Is;
// errors about file names that cannot be made safe also match
// ErrUnsafePath. Errors from ParseMagnet match ErrInvalidMagnet,
// and errors from ParseHash match ErrInvalidHash.
var (
	// ErrInvalid reports a .torrent file or info dictionary that is
	// malformed or fails validation.
	ErrInvalid = errors.New("metainfo: invalid torrent")

	// ErrUnsafePath reports a file path in a torrent that was rejected
	// because it cannot be made safe: a single-file torrent named "." or
	// "..", or a path longer than MaxPathLength. (Components such as ".."
	// inside a path are repaired, and colliding paths are renamed, so
	// they do not cause it.) It also matches ErrInvalid.
	ErrUnsafePath error = &kindError{msg: "metainfo: unsafe file path", parent: ErrInvalid}

	// ErrTooLarge reports a .torrent file or info dictionary above the size
	// limit (MaxTorrentSize). It also matches ErrInvalid.
	ErrTooLarge error = &kindError{msg: "metainfo: torrent too large", parent: ErrInvalid}

	// ErrInvalidMagnet reports a malformed magnet URI.
	ErrInvalidMagnet = errors.New("magnet: invalid magnet URI")

	// ErrInvalidHash reports an info hash string that is neither 40 hex nor
	// 32 base32 characters.
	ErrInvalidHash = errors.New("metainfo: invalid info hash")
)

// kindError is a sentinel that is itself a more specific kind of another
// sentinel (ErrUnsafePath is a kind of ErrInvalid).
type kindError struct {
	msg    string
	parent error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.parent }

// detailError is an error whose message says exactly what is wrong while
// errors.Is still matches its sentinel kind and, if any, its cause.
type detailError struct {
	msg   string
	kind  error
	cause error
}

func (e *detailError) Error() string { return e.msg }

func (e *detailError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// wrapInvalid builds an ErrInvalid error that also wraps cause; the
// message is prefix followed by cause's message.
func wrapInvalid(cause error, prefix string) error {
	return &detailError{msg: prefix + ": " + cause.Error(), kind: ErrInvalid, cause: cause}
}

// errorf builds an error with the formatted message that matches kind.
func errorf(kind error, format string, args ...any) error {
	return &detailError{msg: fmt.Sprintf(format, args...), kind: kind}
}

// invalidf builds an ErrInvalid error about the info dictionary or torrent.
func invalidf(format string, args ...any) error {
	return errorf(ErrInvalid, format, args...)
}
