package bencode

import "reflect"

// RawMessage is a raw encoded bencode value. Decoding into a RawMessage
// stores a copy of the value's exact original bytes, even when they are not
// canonical (unsorted keys), so that for example the info hash can be
// computed over the info dictionary as received. Encoding writes the bytes
// verbatim after checking that they are exactly one valid value.
type RawMessage []byte

var rawMessageType = reflect.TypeFor[RawMessage]()

// MarshalBencode returns m after checking that it is exactly one bencode
// value.
func (m RawMessage) MarshalBencode() ([]byte, error) {
	if err := validValue(m); err != nil {
		return nil, err
	}
	return m, nil
}

// UnmarshalBencode stores a copy of data in *m after checking that it is
// exactly one bencode value.
func (m *RawMessage) UnmarshalBencode(data []byte) error {
	if err := validValue(data); err != nil {
		return err
	}
	*m = append((*m)[:0], data...)
	return nil
}

var _ Marshaler = RawMessage(nil)
var _ Unmarshaler = (*RawMessage)(nil)
