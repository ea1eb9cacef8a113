package bencode

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// field is one encodable struct field, possibly promoted from an embedded
// struct.
type field struct {
	name      string
	key       []byte // name encoded as a bencode string, written verbatim
	index     []int  // reflect index path from the outer struct
	typ       reflect.Type
	omitEmpty bool
	tagged    bool
}

// structFields holds a struct type's fields in encoding order (sorted by key
// as raw bytes) and an index by key for decoding.
type structFields struct {
	list   []field
	byName map[string]*field
}

var fieldCache sync.Map // reflect.Type -> *structFields

// cachedFields returns the fields of struct type t, computing them once.
func cachedFields(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f, _ := fieldCache.LoadOrStore(t, typeFields(t))
	return f.(*structFields)
}

// parseTag splits a `bencode:"name,opts"` tag.
func parseTag(tag string) (name string, omitEmpty bool) {
	name, opts, _ := strings.Cut(tag, ",")
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == "omitempty" {
			omitEmpty = true
		}
	}
	return name, omitEmpty
}

// typeFields computes the field list of struct type t following the
// encoding/json rules for embedded structs: a shallower field hides deeper
// ones with the same name; among equally deep fields a single tagged one
// wins, otherwise all of them are dropped.
func typeFields(t reflect.Type) *structFields {
	type candidate struct {
		field
		depth int
	}
	var all []candidate
	var walk func(t reflect.Type, index []int, depth int, seen map[reflect.Type]bool)
	walk = func(t reflect.Type, index []int, depth int, seen map[reflect.Type]bool) {
		if seen[t] {
			return
		}
		seen[t] = true
		defer delete(seen, t)
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("bencode")
			if tag == "-" {
				continue
			}
			name, omitEmpty := parseTag(tag)
			idx := append(slices.Clip(index), i)
			if sf.Anonymous && name == "" {
				ft := sf.Type
				isPtr := ft.Kind() == reflect.Pointer
				if isPtr {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					// Unexported embedded pointers cannot be allocated on decode.
					if !sf.IsExported() && isPtr {
						continue
					}
					walk(ft, idx, depth+1, seen)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			tagged := name != ""
			if !tagged {
				name = sf.Name
			}
			all = append(all, candidate{field{
				name:      name,
				key:       []byte(strconv.Itoa(len(name)) + ":" + name),
				index:     idx,
				typ:       sf.Type,
				omitEmpty: omitEmpty,
				tagged:    tagged,
			}, depth})
		}
	}
	walk(t, nil, 0, map[reflect.Type]bool{})

	slices.SortStableFunc(all, func(a, b candidate) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if a.depth != b.depth {
			return a.depth - b.depth
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return 0
	})
	sf := &structFields{byName: make(map[string]*field)}
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].name == all[i].name {
			j++
		}
		group := all[i:j]
		i = j
		// group[0] is the shallowest, tagged first; it dominates unless an
		// equally good rival exists.
		if len(group) > 1 && group[1].depth == group[0].depth && group[1].tagged == group[0].tagged {
			continue
		}
		sf.list = append(sf.list, group[0].field)
	}
	for i := range sf.list {
		sf.byName[sf.list[i].name] = &sf.list[i]
	}
	return sf
}

// fieldForDecode returns the field at index in struct v, allocating nil
// embedded pointers on the way.
func fieldForDecode(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

// fieldForEncode returns the field at index in struct v, or false if a nil
// embedded pointer is on the way.
func fieldForEncode(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}
