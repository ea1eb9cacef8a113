package qbittorrent

import (
	"slices"

	"github.com/gobit/gobit/internal/api/jsonenc"
	"github.com/gobit/gobit/internal/session"
)

// The torrent lists (torrents/info, sync/maindata) hold thousands of
// torrent maps of some 60 values each; encoding/json sorted each map's
// keys by reflection and spent most of a list's time doing so.
// appendJSON writes the same bytes (as an Encoder with SetEscapeHTML(false)
// does), walking the maps the lists are made of itself and leaving the
// other values to encoding/json.

// appendJSON appends v as JSON.
func appendJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case torrent:
		return appendMap(b, x)
	case map[string]any:
		return appendMap(b, x)
	case map[string]torrent:
		return appendMap(b, x)
	case []torrent:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		var err error
		for i, t := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendMap(b, t); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	}
	return jsonenc.AppendValue(b, v, false)
}

// appendMap appends m as an object with its keys sorted, as encoding/json
// writes a map.
func appendMap[M ~map[string]V, V any](b []byte, m M) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	var keys []string
	if t, ok := any(m).(torrent); ok && len(t) <= len(torrentKeys) {
		keys = keysOf(t)
	} else {
		keys = make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
	}
	b = append(b, '{')
	var err error
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendStringNoHTML(b, k)
		b = append(b, ':')
		if b, err = appendJSON(b, any(m[k])); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// keysOf returns t's keys, sorted: in the order of torrentKeys when t
// holds only keys of it (no sort), else sorted here.
func keysOf(t torrent) []string {
	keys := make([]string, 0, len(t))
	for _, k := range torrentKeys {
		if _, ok := t[k]; ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == len(t) {
		return keys
	}
	keys = keys[:0]
	for k := range t {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// torrentKeys are the keys of a torrent object, sorted.
var torrentKeys = func() []string {
	var h Handler
	t := h.torrentObject(session.Status{}, view{})
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}()
