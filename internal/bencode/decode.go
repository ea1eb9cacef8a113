package bencode

import (
	"fmt"
	"reflect"
	"strconv"
)

// Unmarshaler is implemented by types that decode their own bencode form.
// UnmarshalBencode receives exactly one complete, syntactically valid value.
// The slice aliases the decoder's input: implementations must copy it to keep
// it.
type Unmarshaler interface {
	UnmarshalBencode([]byte) error
}

// Unmarshal decodes data, which must hold exactly one bencode value, into
// the value v points to. Trailing bytes are an error (*SyntaxError wrapping
// ErrTrailingData). The input is validated completely before anything is
// stored in v.
func Unmarshal(data []byte, v any) error {
	rv, err := checkTarget(v)
	if err != nil {
		return err
	}
	s := scanner{data: data}
	if err := s.skip(); err != nil {
		return err
	}
	if s.pos != len(data) {
		return &SyntaxError{Offset: int64(s.pos), Msg: "trailing data after value", err: ErrTrailingData}
	}
	d := decodeState{scanner: scanner{data: data}}
	return d.value(rv)
}

// DecodePrefix decodes the bencode value at the start of data into the value
// v points to and returns the number of bytes it took. Data after the value
// is allowed and left alone, as in ut_metadata data messages, where a
// dictionary is followed by raw piece bytes. On error n is 0.
func DecodePrefix(data []byte, v any) (n int, err error) {
	rv, err := checkTarget(v)
	if err != nil {
		return 0, err
	}
	return decodePrefix(data, rv)
}

// decodePrefix validates the value at the start of data and decodes it into
// rv.
func decodePrefix(data []byte, rv reflect.Value) (int, error) {
	s := scanner{data: data}
	if err := s.skip(); err != nil {
		return 0, err
	}
	n := s.pos
	d := decodeState{scanner: scanner{data: data[:n]}}
	if err := d.value(rv); err != nil {
		return 0, err
	}
	return n, nil
}

func checkTarget(v any) (reflect.Value, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return reflect.Value{}, fmt.Errorf("decode into %T: %w", v, ErrInvalidTarget)
	}
	return rv, nil
}

// decodeState stores a validated value into Go values. It still checks every
// bound, so it is safe on any input.
type decodeState struct {
	scanner
}

func (d *decodeState) typeError(what string, t reflect.Type, pos int) error {
	return &UnmarshalTypeError{Value: what, Type: t, Offset: int64(pos)}
}

// value decodes the value at d.pos into v.
func (d *decodeState) value(v reflect.Value) error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	start := d.pos
	if v.Type() == rawMessageType {
		// Fast path: the input was validated already, keep a copy.
		if err := d.skip(); err != nil {
			return err
		}
		v.SetBytes(append([]byte(nil), d.data[start:d.pos]...))
		return nil
	}
	u, pv := indirect(v)
	if u != nil {
		if err := d.skip(); err != nil {
			return err
		}
		if err := u.UnmarshalBencode(d.data[start:d.pos]); err != nil {
			return fmt.Errorf("bencode: %s.UnmarshalBencode at offset %d: %w",
				reflect.TypeOf(u).Elem(), int64(start), err)
		}
		return nil
	}
	if pv.Kind() == reflect.Interface {
		if pv.NumMethod() != 0 {
			return d.typeError(kindName(c), pv.Type(), start)
		}
		x, err := d.valueInterface()
		if err != nil {
			return err
		}
		pv.Set(reflect.ValueOf(x))
		return nil
	}
	switch {
	case c == 'i':
		n, err := d.readInt()
		if err != nil {
			return err
		}
		return d.storeInt(pv, n, start)
	case c >= '0' && c <= '9':
		b, err := d.readString()
		if err != nil {
			return err
		}
		return d.storeString(pv, b, start)
	case c == 'l':
		return d.list(pv)
	case c == 'd':
		return d.dict(pv)
	default:
		return d.errChar("looking for beginning of value")
	}
}

func kindName(c byte) string {
	switch {
	case c == 'i':
		return "integer"
	case c == 'l':
		return "list"
	case c == 'd':
		return "dictionary"
	default:
		return "string"
	}
}

func (d *decodeState) storeInt(v reflect.Value, n int64, start int) error {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.OverflowInt(n) {
			return d.typeError("integer "+strconv.FormatInt(n, 10), v.Type(), start)
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if n < 0 || v.OverflowUint(uint64(n)) {
			return d.typeError("integer "+strconv.FormatInt(n, 10), v.Type(), start)
		}
		v.SetUint(uint64(n))
	case reflect.Bool:
		v.SetBool(n != 0)
	default:
		return d.typeError("integer", v.Type(), start)
	}
	return nil
}

func (d *decodeState) storeString(v reflect.Value, b []byte, start int) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(string(b))
		return nil
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			c := make([]byte, len(b))
			copy(c, b)
			v.SetBytes(c)
			return nil
		}
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if v.Len() != len(b) {
				return d.typeError("string of length "+strconv.Itoa(len(b)), v.Type(), start)
			}
			for i, c := range b {
				v.Index(i).SetUint(uint64(c))
			}
			return nil
		}
	}
	return d.typeError("string", v.Type(), start)
}

func (d *decodeState) list(v reflect.Value) error {
	start := d.pos
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return d.typeError("list", v.Type(), start)
		}
	default:
		return d.typeError("list", v.Type(), start)
	}
	if err := d.enter(); err != nil {
		return err
	}
	d.pos++ // 'l'
	i := 0
	for {
		c, err := d.peek()
		if err != nil {
			return err
		}
		if c == 'e' {
			break
		}
		if v.Kind() == reflect.Slice {
			if i >= v.Cap() {
				v.Grow(1)
			}
			if i >= v.Len() {
				v.SetLen(i + 1)
			}
		} else if i >= v.Len() {
			return d.typeError("list longer than "+strconv.Itoa(v.Len()), v.Type(), start)
		}
		ev := v.Index(i)
		ev.SetZero()
		if err := d.value(ev); err != nil {
			return err
		}
		i++
	}
	d.pos++ // 'e'
	d.depth--
	if v.Kind() == reflect.Array {
		if i != v.Len() {
			return d.typeError("list of length "+strconv.Itoa(i), v.Type(), start)
		}
		return nil
	}
	if i == 0 && v.IsNil() {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
	} else {
		v.SetLen(i)
	}
	return nil
}

func (d *decodeState) dict(v reflect.Value) error {
	start := d.pos
	var sf *structFields
	var elemType reflect.Type
	switch v.Kind() {
	case reflect.Struct:
		sf = cachedFields(v.Type())
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return d.typeError("dictionary", v.Type(), start)
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		elemType = v.Type().Elem()
	default:
		return d.typeError("dictionary", v.Type(), start)
	}
	if err := d.enter(); err != nil {
		return err
	}
	d.pos++ // 'd'
	var elem reflect.Value
	for {
		c, err := d.peek()
		if err != nil {
			return err
		}
		if c == 'e' {
			break
		}
		key, err := d.readKey()
		if err != nil {
			return err
		}
		if sf != nil {
			f := sf.byName[string(key)]
			if f == nil {
				if err := d.skip(); err != nil {
					return err
				}
				continue
			}
			if err := d.value(fieldForDecode(v, f.index)); err != nil {
				return err
			}
			continue
		}
		if !elem.IsValid() {
			elem = reflect.New(elemType).Elem()
		} else {
			elem.SetZero()
		}
		if err := d.value(elem); err != nil {
			return err
		}
		kv := reflect.ValueOf(string(key)).Convert(v.Type().Key())
		v.SetMapIndex(kv, elem)
	}
	d.pos++ // 'e'
	d.depth--
	return nil
}

// valueInterface decodes the value at d.pos into int64, string, []any or
// map[string]any.
func (d *decodeState) valueInterface() (any, error) {
	c, err := d.peek()
	if err != nil {
		return nil, err
	}
	switch {
	case c == 'i':
		return d.readInt()
	case c >= '0' && c <= '9':
		b, err := d.readString()
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case c == 'l':
		if err := d.enter(); err != nil {
			return nil, err
		}
		d.pos++
		list := []any{}
		for {
			c, err := d.peek()
			if err != nil {
				return nil, err
			}
			if c == 'e' {
				break
			}
			x, err := d.valueInterface()
			if err != nil {
				return nil, err
			}
			list = append(list, x)
		}
		d.pos++
		d.depth--
		return list, nil
	case c == 'd':
		if err := d.enter(); err != nil {
			return nil, err
		}
		d.pos++
		m := map[string]any{}
		for {
			c, err := d.peek()
			if err != nil {
				return nil, err
			}
			if c == 'e' {
				break
			}
			key, err := d.readKey()
			if err != nil {
				return nil, err
			}
			x, err := d.valueInterface()
			if err != nil {
				return nil, err
			}
			m[string(key)] = x
		}
		d.pos++
		d.depth--
		return m, nil
	default:
		return nil, d.errChar("looking for beginning of value")
	}
}

// indirect walks down v through pointers and non-empty interfaces,
// allocating nil pointers, until it reaches a non-pointer. If it meets a
// value implementing Unmarshaler it returns it instead. Adapted from
// encoding/json.
func indirect(v reflect.Value) (Unmarshaler, reflect.Value) {
	v0 := v
	haveAddr := false
	if v.Kind() != reflect.Pointer && v.Type().Name() != "" && v.CanAddr() {
		haveAddr = true
		v = v.Addr()
	}
	for {
		if v.Kind() == reflect.Interface && !v.IsNil() {
			e := v.Elem()
			if e.Kind() == reflect.Pointer && !e.IsNil() {
				haveAddr = false
				v = e
				continue
			}
		}
		if v.Kind() != reflect.Pointer {
			break
		}
		// A pointer stored in an interface it points to would loop forever.
		if v.Elem().Kind() == reflect.Interface && v.Elem().Elem().Equal(v) {
			v = v.Elem()
			break
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		if v.Type().NumMethod() > 0 && v.CanInterface() {
			if u, ok := v.Interface().(Unmarshaler); ok {
				return u, reflect.Value{}
			}
		}
		if haveAddr {
			v = v0
			haveAddr = false
		} else {
			v = v.Elem()
		}
	}
	return nil, v
}
