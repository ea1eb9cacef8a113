package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/api/apitest"
	"github.com/gobit/gobit/internal/session"
)

// TestStatusFieldsCoverStatus checks that the fast encoder knows every JSON
// field of session.Status, in order, so a field added there cannot go
// missing from the list.
func TestStatusFieldsCoverStatus(t *testing.T) {
	var want []string
	for f := range reflect.TypeFor[session.Status]().Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		want = append(want, name)
	}
	var got []string
	for _, f := range statusFields {
		got = append(got, f.name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("statusFields = %v\nsession.Status has %v", got, want)
	}
}

// oddStatuses are statuses whose strings, numbers and times exercise every
// escaping and formatting rule of encoding/json.
func oddStatuses() []session.Status {
	when := time.Date(2026, 3, 4, 5, 6, 7, 890123000, time.FixedZone("x", 5*3600+1800))
	return []session.Status{
		{InfoHash: hashA, Name: "plain.iso", State: session.StateSeeding, Progress: 1, Ratio: 0.5, Tags: []string{}},
		{InfoHash: hashB, Name: "<script>&\"quote\"\\ \n\t\r\b\f\x01\x1f", State: session.StateError, Error: "disk <full> & gone",
			Progress: 1e-7, Ratio: 1e21, RatioLimit: 123.456, AddedAt: when, Tags: []string{"a", "ü\u2028\u2029"}, ETASeconds: -1},
		{Name: "bad utf8 \xff\xfe end, 日本語 ok", SaveDir: "/data/ü", Progress: 0.3333333333333333, Ratio: 2.5e-9,
			AddedAt: time.Unix(1_700_000_000, 1).UTC(), TotalSize: 1 << 40, Peers: 7, Seeds: -3, Tags: []string{}},
		{Category: "c", QueuePosition: 9999, Forced: true, Finished: true, Sequential: true, FirstLastPieceFirst: true,
			UploadSlots: -1, Tags: []string{}},
	}
}

// TestStatusEncodingMatchesJSON checks that the fast encoder writes what
// encoding/json writes for the same statuses and snapshot.
func TestStatusEncodingMatchesJSON(t *testing.T) {
	l := oddStatuses()
	want, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendStatuses(nil, l, allFields); !bytes.Equal(got, want) {
		t.Errorf("fast encoding differs:\n got %s\nwant %s", got, want)
	}
	snap := session.Snapshot{Torrents: l, Stats: session.SessionStats{Torrents: 4, States: map[session.State]int{"seeding": 1}}}
	want, _ = json.Marshal(snap)
	got, err := appendSnapshot(nil, &snap)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("snapshot encoding differs (%v):\n got %s\nwant %s", err, got, want)
	}
	for _, f := range []float64{0, 1, -1, 0.1, 1e-6, 9.99e-7, 1e20, 1e21, 12345.678, 3e-10} {
		w, _ := json.Marshal(f)
		if g := appendFloat(nil, f); string(g) != string(w) {
			t.Errorf("appendFloat(%v) = %s, want %s", f, g, w)
		}
	}
}

// listOf adds n magnets to a fake backend, pausing every third, and
// returns a handler on it.
func listBackend(t *testing.T, n int) *apitest.Backend {
	t.Helper()
	fb := apitest.New()
	h := NewHandler(fb, Options{})
	for i := range n {
		uri := fmt.Sprintf("magnet:?xt=urn:btih:%040x&dn=t%d", i+1, i)
		path := "/api/v1/torrents"
		if i%3 == 0 {
			path += "?paused=true"
		}
		if w := serve(t, h, reqSpec{method: "POST", path: path, ctype: "text/plain", body: uri}); w.Code != 201 {
			t.Fatalf("add %d: %d %s", i, w.Code, w.Body)
		}
	}
	return fb
}

// TestListFieldsAndPaging checks ?fields=, ?state=, ?offset=, ?limit= and
// X-Total-Count, and that bad values are 400s naming the parameter.
func TestListFieldsAndPaging(t *testing.T) {
	fb := listBackend(t, 10)
	h := NewHandler(fb, Options{})
	get := func(path string) ([]map[string]any, string) {
		t.Helper()
		w := serve(t, h, reqSpec{method: "GET", path: path})
		if w.Code != 200 {
			t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
		}
		var out []map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, w.Body)
		}
		return out, w.Header().Get("X-Total-Count")
	}
	names := func(l []map[string]any) []string {
		var out []string
		for _, m := range l {
			out = append(out, m["name"].(string))
		}
		return out
	}

	all, total := get("/api/v1/torrents")
	if len(all) != 10 || total != "10" || len(all[0]) != len(statusFields)-1 { // "error" is omitted when empty
		t.Fatalf("full list: %d torrents, total %q, %d fields", len(all), total, len(all[0]))
	}

	l, _ := get("/api/v1/torrents?fields=state,info_hash&fields=name")
	for _, m := range l {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range m {
				if !yield(k) {
					return
				}
			}
		})
		if !slices.Equal(keys, []string{"info_hash", "name", "state"}) {
			t.Fatalf("fields=state,info_hash,name gave keys %v", keys)
		}
	}

	l, total = get("/api/v1/torrents?fields=name&offset=3&limit=4")
	if got := names(l); !slices.Equal(got, []string{"t3", "t4", "t5", "t6"}) || total != "10" {
		t.Errorf("page 3+4 = %v (total %s)", got, total)
	}
	l, _ = get("/api/v1/torrents?fields=name&offset=8&limit=4")
	if got := names(l); !slices.Equal(got, []string{"t8", "t9"}) {
		t.Errorf("last page = %v", got)
	}
	l, _ = get("/api/v1/torrents?offset=50")
	if l == nil || len(l) != 0 {
		t.Errorf("page past the end = %v, want []", l)
	}

	l, total = get("/api/v1/torrents?fields=name,state&state=paused&limit=2")
	if got := names(l); !slices.Equal(got, []string{"t0", "t3"}) || total != "4" {
		t.Errorf("paused page = %v, total %s; want t0 t3 of 4", got, total)
	}
	l, total = get("/api/v1/torrents?fields=name&state=paused,downloading")
	if len(l) != 10 || total != "10" {
		t.Errorf("state=paused,downloading: %d (total %s)", len(l), total)
	}

	for path, word := range map[string]string{
		"/api/v1/torrents?fields=name,nope":                      "fields",
		"/api/v1/torrents?state=sleeping":                        "state",
		"/api/v1/torrents?limit=-1":                              "limit",
		"/api/v1/torrents?offset=x":                              "offset",
		"/api/v1/torrents?limit=" + strconv.Itoa(maxListParam+1): "limit",
	} {
		if msg := errorOf(t, serve(t, h, reqSpec{method: "GET", path: path}), 400); !strings.Contains(msg, word) {
			t.Errorf("GET %s: error %q does not name %s", path, msg, word)
		}
	}
}

// BenchmarkList10000 measures the full list of 10,000 torrents, and with
// four fields.
func BenchmarkList10000(b *testing.B) {
	l := make([]session.Status, 10000)
	for i := range l {
		l[i] = oddStatuses()[i%4]
		l[i].InfoHash = fmt.Sprintf("%040x", i)
	}
	few, _ := parseFields([]string{"info_hash,name,state,progress"})
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(l)
		}
	})
	b.Run("all", func(b *testing.B) {
		for b.Loop() {
			appendStatuses(make([]byte, 0, 8<<20), l, allFields)
		}
	})
	b.Run("fields", func(b *testing.B) {
		for b.Loop() {
			appendStatuses(nil, l, few)
		}
	})
}
