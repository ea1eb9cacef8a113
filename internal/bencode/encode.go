package bencode

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Marshaler is implemented by types that encode themselves. MarshalBencode
// must return exactly one valid bencode value; Marshal checks this.
type Marshaler interface {
	MarshalBencode() ([]byte, error)
}

var marshalerType = reflect.TypeFor[Marshaler]()

// Marshal returns the bencoding of v. See the package documentation for the
// mapping of Go values and how nil values are treated.
func Marshal(v any) ([]byte, error) {
	e := encodeState{}
	if err := e.value(reflect.ValueOf(v)); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// encodeState accumulates output.
type encodeState struct {
	buf      []byte
	depth    int // list/dict nesting, at most MaxDepth so Unmarshal can read it back
	ptrDepth int // pointer and interface hops, bounded to stop cycles without containers
}

// maxPtrDepth bounds the pointer and interface hops on one path.
const maxPtrDepth = 4 * MaxDepth

// marshalFlags caches, per type, whether T or *T implements Marshaler.
type marshalFlags uint8

const (
	flagMarshaler    marshalFlags = 1 << iota // T implements Marshaler
	flagPtrMarshaler                          // *T implements Marshaler
)

var marshalFlagCache sync.Map // reflect.Type -> marshalFlags

func typeMarshalFlags(t reflect.Type) marshalFlags {
	if f, ok := marshalFlagCache.Load(t); ok {
		return f.(marshalFlags)
	}
	var f marshalFlags
	if t.Implements(marshalerType) {
		f |= flagMarshaler
	}
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(marshalerType) {
		f |= flagPtrMarshaler
	}
	marshalFlagCache.Store(t, f)
	return f
}

func (e *encodeState) enter() error {
	e.depth++
	if e.depth > MaxDepth {
		return fmt.Errorf("bencode: encode: nesting deeper than %d (cyclic value?): %w", MaxDepth, ErrMaxDepth)
	}
	return nil
}

// isNil reports whether v has no bencode form and is omitted as a dictionary
// value: a nil pointer or interface, or an empty RawMessage.
func isNil(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Slice:
		return v.Type() == rawMessageType && v.Len() == 0
	}
	return false
}

func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

func (e *encodeState) writeString(s string) {
	e.buf = strconv.AppendInt(e.buf, int64(len(s)), 10)
	e.buf = append(e.buf, ':')
	e.buf = append(e.buf, s...)
}

func (e *encodeState) writeBytes(b []byte) {
	e.buf = strconv.AppendInt(e.buf, int64(len(b)), 10)
	e.buf = append(e.buf, ':')
	e.buf = append(e.buf, b...)
}

func (e *encodeState) value(v reflect.Value) error {
	if !v.IsValid() {
		return &UnsupportedValueError{Type: reflect.TypeFor[any](), Str: "nil value outside a dictionary"}
	}
	t := v.Type()
	if t == rawMessageType {
		b := v.Bytes()
		if err := validValue(b); err != nil {
			return &MarshalerError{Type: t, Err: err}
		}
		e.buf = append(e.buf, b...)
		return nil
	}
	if f := typeMarshalFlags(t); f != 0 {
		if f&flagMarshaler != 0 {
			if isNil(v) {
				return &UnsupportedValueError{Type: t, Str: "nil value outside a dictionary"}
			}
			return e.marshaler(v)
		}
		if v.CanAddr() {
			return e.marshaler(v.Addr())
		}
	}
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			e.buf = append(e.buf, "i1e"...)
		} else {
			e.buf = append(e.buf, "i0e"...)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = append(e.buf, 'i')
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
		e.buf = append(e.buf, 'e')
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := v.Uint()
		if u > math.MaxInt64 {
			return &UnsupportedValueError{Type: t, Str: "integer " + strconv.FormatUint(u, 10) + " exceeds int64"}
		}
		e.buf = append(e.buf, 'i')
		e.buf = strconv.AppendUint(e.buf, u, 10)
		e.buf = append(e.buf, 'e')
	case reflect.String:
		e.writeString(v.String())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			e.writeBytes(v.Bytes())
			return nil
		}
		return e.list(v)
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			e.buf = strconv.AppendInt(e.buf, int64(v.Len()), 10)
			e.buf = append(e.buf, ':')
			if v.CanAddr() {
				e.buf = append(e.buf, v.Bytes()...)
			} else {
				for i := range v.Len() {
					e.buf = append(e.buf, byte(v.Index(i).Uint()))
				}
			}
			return nil
		}
		return e.list(v)
	case reflect.Map:
		return e.mapValue(v)
	case reflect.Struct:
		return e.structValue(v)
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return &UnsupportedValueError{Type: t, Str: "nil value outside a dictionary"}
		}
		e.ptrDepth++
		if e.ptrDepth > maxPtrDepth {
			return fmt.Errorf("bencode: encode: more than %d pointer hops (cyclic value?): %w", maxPtrDepth, ErrMaxDepth)
		}
		err := e.value(v.Elem())
		e.ptrDepth--
		return err
	default:
		return &UnsupportedTypeError{Type: t}
	}
	return nil
}

func (e *encodeState) marshaler(v reflect.Value) error {
	m, ok := v.Interface().(Marshaler)
	if !ok {
		return &UnsupportedTypeError{Type: v.Type()}
	}
	b, err := m.MarshalBencode()
	if err != nil {
		return &MarshalerError{Type: v.Type(), Err: err}
	}
	if err := validValue(b); err != nil {
		return &MarshalerError{Type: v.Type(), Err: err}
	}
	e.buf = append(e.buf, b...)
	return nil
}

func (e *encodeState) list(v reflect.Value) error {
	if err := e.enter(); err != nil {
		return err
	}
	e.buf = append(e.buf, 'l')
	for i := range v.Len() {
		if err := e.value(v.Index(i)); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, 'e')
	e.depth--
	return nil
}

func (e *encodeState) mapValue(v reflect.Value) error {
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		return &UnsupportedTypeError{Type: t}
	}
	if err := e.enter(); err != nil {
		return err
	}
	type kv struct {
		k string
		v reflect.Value
	}
	entries := make([]kv, 0, v.Len())
	iter := v.MapRange()
	for iter.Next() {
		entries = append(entries, kv{iter.Key().String(), iter.Value()})
	}
	slices.SortFunc(entries, func(a, b kv) int { return strings.Compare(a.k, b.k) })
	e.buf = append(e.buf, 'd')
	for _, ent := range entries {
		if isNil(ent.v) {
			continue
		}
		e.writeString(ent.k)
		if err := e.value(ent.v); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, 'e')
	e.depth--
	return nil
}

func (e *encodeState) structValue(v reflect.Value) error {
	if err := e.enter(); err != nil {
		return err
	}
	sf := cachedFields(v.Type())
	e.buf = append(e.buf, 'd')
	for i := range sf.list {
		f := &sf.list[i]
		fv, ok := fieldForEncode(v, f.index)
		if !ok || isNil(fv) || (f.omitEmpty && isEmptyValue(fv)) {
			continue
		}
		e.buf = append(e.buf, f.key...)
		if err := e.value(fv); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, 'e')
	e.depth--
	return nil
}
