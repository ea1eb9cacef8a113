package bencode

import (
	"errors"
	"reflect"
	"strconv"
)

// MaxDepth is the deepest nesting of lists and dictionaries that the decoder
// and encoder accept. Deeper input fails with an error wrapping ErrMaxDepth.
const MaxDepth = 256

// ErrMaxDepth is wrapped by the error returned when lists and dictionaries
// nest deeper than MaxDepth.
var ErrMaxDepth = errors.New("bencode: nesting too deep")

// ErrInvalidTarget is returned when the value passed to Unmarshal or
// DecodePrefix is not a non-nil pointer.
var ErrInvalidTarget = errors.New("bencode: decode target must be a non-nil pointer")

// ErrTrailingData is wrapped by the *SyntaxError that Unmarshal returns when
// the input holds more than one value.
var ErrTrailingData = errors.New("bencode: trailing data after value")

// SyntaxError describes malformed bencode and where it was found.
type SyntaxError struct {
	// Offset is the byte offset in the input where the error was detected.
	Offset int64
	// Msg describes the error.
	Msg string

	err error // optional cause, returned by Unwrap
}

// Error returns "bencode: <msg> at offset N".
func (e *SyntaxError) Error() string {
	return "bencode: " + e.Msg + " at offset " + strconv.FormatInt(e.Offset, 10)
}

// Unwrap returns the underlying cause, such as ErrMaxDepth,
// ErrTrailingData or io.ErrUnexpectedEOF, or nil.
func (e *SyntaxError) Unwrap() error { return e.err }

// UnmarshalTypeError describes a bencode value that cannot be stored in the
// Go value it was decoded into.
type UnmarshalTypeError struct {
	// Value describes the bencode value, e.g. "string", "integer 300".
	Value string
	// Type is the Go type it could not be stored in.
	Type reflect.Type
	// Offset is the byte offset where the bencode value starts.
	Offset int64
}

// Error describes the mismatch and its offset.
func (e *UnmarshalTypeError) Error() string {
	return "bencode: cannot decode " + e.Value + " into Go value of type " + e.Type.String() +
		" at offset " + strconv.FormatInt(e.Offset, 10)
}

// UnsupportedTypeError is returned by Marshal for a Go type that has no
// bencode form (floats, complex numbers, channels, functions, maps without
// string keys).
type UnsupportedTypeError struct {
	// Type is the offending type.
	Type reflect.Type
}

// Error names the unsupported type.
func (e *UnsupportedTypeError) Error() string {
	return "bencode: unsupported type " + e.Type.String()
}

// UnsupportedValueError is returned by Marshal for a value of a supported type
// that cannot be encoded, such as a nil pointer in a list or a uint64 above
// math.MaxInt64.
type UnsupportedValueError struct {
	// Type is the type of the offending value.
	Type reflect.Type
	// Str describes the problem.
	Str string
}

// Error describes the unsupported value.
func (e *UnsupportedValueError) Error() string {
	return "bencode: unsupported value of type " + e.Type.String() + ": " + e.Str
}

// MarshalerError wraps an error returned by a Marshaler, or reports that its
// output was not exactly one valid bencode value.
type MarshalerError struct {
	// Type is the type whose MarshalBencode method failed.
	Type reflect.Type
	// Err is the cause.
	Err error
}

// Error describes which MarshalBencode failed and why.
func (e *MarshalerError) Error() string {
	return "bencode: error calling MarshalBencode for type " + e.Type.String() + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *MarshalerError) Unwrap() error { return e.Err }
