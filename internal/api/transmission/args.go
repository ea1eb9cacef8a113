package transmission

import (
	"encoding/json"
	"math"
	"strings"
)

// Bounds of argument values.
const (
	// maxList bounds the entries of a list argument (ids, file indices,
	// labels, fields).
	maxList = 100000
	// maxString bounds a string argument other than metainfo.
	maxString = 64 << 10
)

// args are a call's arguments by snake_case name.
type args map[string]json.RawMessage

func (a args) has(k string) bool {
	v, ok := a[k]
	return ok && string(v) != "null"
}

func badArg(k, want string) *rpcError {
	return errorf(codeInvalidParams, "invalid argument %q: want %s", k, want)
}

// str returns a string argument; ok is false when it is absent.
func (a args) str(k string) (s string, ok bool, err *rpcError) {
	if !a.has(k) {
		return "", false, nil
	}
	if json.Unmarshal(a[k], &s) != nil {
		return "", false, badArg(k, "a string")
	}
	if len(s) > maxString && k != "metainfo" {
		return "", false, badArg(k, "a shorter string")
	}
	return s, true, nil
}

// boolean returns a boolean argument; old clients send 0 and 1.
func (a args) boolean(k string) (b, ok bool, err *rpcError) {
	if !a.has(k) {
		return false, false, nil
	}
	if json.Unmarshal(a[k], &b) == nil {
		return b, true, nil
	}
	var n float64
	if json.Unmarshal(a[k], &n) == nil && (n == 0 || n == 1) {
		return n == 1, true, nil
	}
	return false, false, badArg(k, "a boolean")
}

// number returns a numeric argument.
func (a args) number(k string) (f float64, ok bool, err *rpcError) {
	if !a.has(k) {
		return 0, false, nil
	}
	if json.Unmarshal(a[k], &f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, badArg(k, "a number")
	}
	return f, true, nil
}

// integer returns a whole-number argument in [lo, hi].
func (a args) integer(k string, lo, hi int64) (n int64, ok bool, err *rpcError) {
	f, ok, e := a.number(k)
	if e != nil || !ok {
		return 0, ok, e
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, false, badArg(k, "a whole number in range")
	}
	return int64(f), true, nil
}

// indices returns a list of file indices.
func (a args) indices(k string) (idx []int, ok bool, err *rpcError) {
	if !a.has(k) {
		return nil, false, nil
	}
	var fs []float64
	if json.Unmarshal(a[k], &fs) != nil || len(fs) > maxList {
		return nil, false, badArg(k, "an array of file indices")
	}
	for _, f := range fs {
		if f != math.Trunc(f) || f < 0 || f > maxList*100 {
			return nil, false, badArg(k, "an array of file indices")
		}
		idx = append(idx, int(f))
	}
	return idx, true, nil
}

// strings returns a list of strings.
func (a args) strings(k string) (ss []string, ok bool, err *rpcError) {
	if !a.has(k) {
		return nil, false, nil
	}
	if json.Unmarshal(a[k], &ss) != nil || len(ss) > maxList {
		return nil, false, badArg(k, "an array of strings")
	}
	return ss, true, nil
}

// idSet is a parsed "ids" argument.
type idSet struct {
	all            bool // no ids: every torrent
	recentlyActive bool
	nums           []int
	hashes         []string // lower-case hex
}

// ids parses the ids argument: absent for all torrents, a number, a hash,
// "recently-active", or a list of numbers and hashes.
func (a args) ids() (idSet, *rpcError) {
	if !a.has("ids") {
		return idSet{all: true}, nil
	}
	raw := a["ids"]
	var one any
	if json.Unmarshal(raw, &one) != nil {
		return idSet{}, badArg("ids", "torrent ids")
	}
	var list []any
	switch v := one.(type) {
	case []any:
		if len(v) > maxList {
			return idSet{}, badArg("ids", "fewer torrent ids")
		}
		list = v
	case string:
		if s := strings.ReplaceAll(v, "_", "-"); s == "recently-active" {
			return idSet{recentlyActive: true}, nil
		}
		list = []any{v}
	default:
		list = []any{v}
	}
	var set idSet
	for _, it := range list {
		switch v := it.(type) {
		case float64:
			if v == math.Trunc(v) && v >= 0 && v <= math.MaxInt32 {
				set.nums = append(set.nums, int(v))
			}
		case string:
			set.hashes = append(set.hashes, strings.ToLower(v))
		default:
			return idSet{}, badArg("ids", "torrent ids (numbers or hash strings)")
		}
	}
	return set, nil
}
