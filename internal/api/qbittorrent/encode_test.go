package qbittorrent

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/gobit/gobit/internal/api/apitest"
	"github.com/gobit/gobit/internal/session"
)

// asMap is t as the map torrent objects were before they were typed.
func asMap(t *torrent) map[string]any {
	m := map[string]any{}
	for i, v := range t {
		if v.k != kindNone {
			m[torrentKeys[i]] = v.anyValue()
		}
	}
	return m
}

// TestTorrentEncodingMatchesJSON: a torrent object is written as an
// encoding/json Encoder without HTML escaping wrote it as a map; a diff
// holds the fields a map comparison finds changed; a sort by any field
// orders as compareValues ordered the maps' values.
func TestTorrentEncodingMatchesJSON(t *testing.T) {
	s := apitest.BigSession(t, 12)
	name := "<odd> & \"name\" \u2028 日本"
	l := s.List()
	if _, err := s.UpdateTorrent(l[1].InfoHash, session.TorrentUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	limit := int64(5000)
	if _, err := s.UpdateTorrent(l[2].InfoHash, session.TorrentUpdate{UploadLimit: &limit}); err != nil {
		t.Fatal(err)
	}
	h := New(s, Options{})
	v := h.newView()
	var objs []torrent
	for _, st := range s.ListShared() {
		objs = append(objs, h.torrentObject(*st, v))
	}
	for i := range objs {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(asMap(&objs[i])); err != nil {
			t.Fatal(err)
		}
		got, err := appendJSON(nil, objs[i])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
			t.Errorf("torrent %d:\n got %s\nwant %s", i, got, want.Bytes())
		}
	}
	if got, _ := appendJSON(nil, objs[1]); !bytes.Contains(got, []byte(`"name":"<odd> & \"name\" \u2028 日本"`)) {
		t.Errorf("odd name not written as encoding/json without HTML escaping writes it: %s", got)
	}
	// Diffs: every pair of objects.
	for i := range objs {
		for j := range objs {
			d, some := changedTorrent(&objs[i], &objs[j])
			want := map[string]any{}
			mi, mj := asMap(&objs[i]), asMap(&objs[j])
			for k, x := range mj {
				if o, ok := mi[k]; !ok || o != x {
					want[k] = x
				}
			}
			if got := asMap(&d); !mapsEqual(got, want) || some != (len(want) > 0) {
				t.Fatalf("diff %d→%d = %v (%v), want %v", i, j, got, some, want)
			}
		}
	}
	// Sorts: by every field.
	for f, key := range torrentKeys {
		a, b := slices.Clone(objs), slices.Clone(objs)
		slices.SortStableFunc(a, func(x, y torrent) int { return compareFields(x[f], y[f]) })
		slices.SortStableFunc(b, func(x, y torrent) int { return compareValues(asMap(&x)[key], asMap(&y)[key]) })
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("sort by %s differs at %d", key, i)
			}
		}
	}
}

func mapsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
