// Package bencode implements the bencoding of BitTorrent (BEP 3): Marshal and
// Unmarshal between Go values and bencoded bytes, RawMessage for keeping a
// value's exact original bytes (the info dictionary, whose SHA-1 is the info
// hash), DecodePrefix for a value followed by raw data (ut_metadata
// messages).
//
// # State and concurrency
//
// The package holds no mutable global state apart from two caches keyed by
// reflect.Type (struct fields and marshaler flags), both sync.Map values that
// are safe for concurrent use. Marshal, Unmarshal and DecodePrefix may be
// called from any number of goroutines.
//
// # Rules
//
// Decoding is strict about syntax and lenient about order:
//   - integers are i<decimal>e and must fit in an int64; leading zeros
//     ("i03e") and negative zero ("i-0e") are errors;
//   - string lengths are decimal without leading zeros and must not exceed
//     the remaining input; this is checked before anything is allocated;
//   - dictionary keys must be strings; unsorted and duplicate keys are
//     accepted (real .torrent files contain them) and the last duplicate wins;
//   - nesting deeper than MaxDepth is an error wrapping ErrMaxDepth;
//   - every decode error carries the byte offset where it was detected:
//     *SyntaxError, *UnmarshalTypeError, or a wrapped Unmarshaler error.
//
// Unmarshal and DecodePrefix validate the whole value before storing anything,
// so a syntax error never leaves the target half-written. A type error may
// leave it partly filled.
//
// Decoding copies: strings, []byte and RawMessage values never alias the
// input, with one exception: an Unmarshaler receives a slice of the input and
// must copy it if it keeps it.
//
// Encoding writes canonical bencode: dictionary keys sorted as raw byte
// strings, struct fields included. A nil pointer, nil interface or empty
// RawMessage that is a dictionary value (struct field or map entry) is
// omitted, as if absent; the same inside a list or at the top level is an
// error, since bencode has no null. A nil slice or map is written as an
// empty list or dictionary unless its field is omitempty. Integers outside
// the int64 range (large uint64 values) and floats are errors, so everything
// Marshal writes, Unmarshal reads back.
//
// Struct fields are matched by their tag (`bencode:"name"`,
// `bencode:"name,omitempty"`, `bencode:"-"`) or, untagged, by the exact field
// name (no case folding). Fields of embedded structs are promoted with the
// same rules as encoding/json.
package bencode
