package trackertest

import (
	"fmt"
	"slices"
	"strconv"
)

// dict is a bencode dictionary of int64, string and dict values.
type dict map[string]any

// encode writes v (int64, string or dict) as bencode, keys sorted.
func encode(v any) []byte {
	return appendValue(nil, v)
}

func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case int64:
		b = append(b, 'i')
		b = strconv.AppendInt(b, v, 10)
		return append(b, 'e')
	case string:
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		return append(b, v...)
	case dict:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, 'd')
		for _, k := range keys {
			b = appendValue(b, k)
			b = appendValue(b, v[k])
		}
		return append(b, 'e')
	}
	panic(fmt.Sprintf("trackertest: cannot bencode %T", v))
}
