package transmission

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/gobit/gobit/internal/api/apitest"
	"github.com/gobit/gobit/internal/session"
)

// TestTorrentGetEncodingMatchesJSON: encodeTorrents writes, for every
// field, in both protocols and both formats, what encoding/json writes for
// the maps and arrays torrent-get built before (keys sorted, HTML
// escaped), and the trackers field holds what its maps held.
func TestTorrentGetEncodingMatchesJSON(t *testing.T) {
	s := apitest.BigSession(t, 12)
	h := New(s, Options{Version: "test"})
	name := "<odd> & \"name\" \u2028"
	if _, err := s.UpdateTorrent(s.List()[1].InfoHash, session.TorrentUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	vs, now := h.snapshot()
	global := h.b.Settings()
	for _, jsonrpc := range []bool{false, true} {
		r := &request{jsonrpc: jsonrpc}
		for _, table := range []bool{false, true} {
			// Every field but those that read each torrent's files and
			// pieces (their values are encoding/json's already).
			var fs []field
			for _, f := range fieldList {
				switch f.legacy {
				case "files", "fileStats", "pieces", "peers", "peersFrom", "priorities", "wanted", "trackerStats":
					continue
				}
				fs = append(fs, f)
			}
			got, rerr := encodeTorrents(&torrentCtx{h: h, r: r, now: now, global: global}, vs, fs, table)
			if rerr != nil {
				t.Fatal(rerr.Msg)
			}
			var want []any
			if table {
				header := []any{}
				for _, f := range fs {
					header = append(header, r.name(f.legacy))
				}
				want = append(want, header)
			}
			for _, v := range vs {
				c := &torrentCtx{h: h, r: r, v: v, now: now, global: global}
				row, obj := []any{}, map[string]any{}
				for _, f := range fs {
					x := f.get(c)
					if f.legacy == "trackers" {
						x = oldTrackers(c)
					}
					row = append(row, x)
					obj[r.name(f.legacy)] = x
				}
				if table {
					want = append(want, row)
				} else {
					want = append(want, obj)
				}
			}
			w, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, w) {
				t.Errorf("jsonrpc %v table %v:\n got %s\nwant %s", jsonrpc, table, got, w)
			}
			if !bytes.Contains(got, []byte(`\u003codd\u003e \u0026 \"name\" \u2028`)) {
				t.Errorf("the odd name is not escaped as encoding/json escapes it: %s", got)
			}
		}
	}
}

// oldTrackers is the trackers field as maps, as it was built before it
// was encoded directly.
func oldTrackers(c *torrentCtx) any {
	ts := c.trackers()
	out := make([]map[string]any, 0, len(ts))
	for i, t := range ts {
		out = append(out, map[string]any{
			c.n("announce"): t.URL, c.n("id"): i, c.n("scrape"): scrapeURL(t.URL),
			c.n("sitename"): sitename(t.URL), c.n("tier"): t.Tier,
		})
	}
	return out
}

// TestWriteSplicesLists: answers carrying encoded lists, alone and in a
// batch, are written as encoding/json writes them with the lists inline,
// and a client's id that looks like a placeholder is left alone.
func TestWriteSplicesLists(t *testing.T) {
	h := New(nil, Options{})
	list := func(i int) rawJSON { return rawJSON(fmt.Sprintf(`[{"id":%d,"name":"x\u003c"}]`, i)) }
	// A placeholder with another handler's mark (the mark is random and
	// never sent, so a client cannot know it).
	fake := New(nil, Options{}).rawMark[len(`"\u0000`):] + "1"
	mk := func() any {
		return []any{
			jsonrpcResponse{JSONRPC: "2.0", ID: json.RawMessage(`"\u0000` + fake + `"`), Result: map[string]any{"torrents": list(0), "removed": []int{3}}},
			jsonrpcResponse{JSONRPC: "2.0", ID: json.RawMessage(`7`), Result: map[string]any{"torrents": list(1)}},
			classicResponse{Result: "success", Arguments: map[string]any{"torrents": list(2), "b": rawJSON(`[]`)}, Tag: json.RawMessage(`5`)},
		}
	}
	want, err := json.Marshal(mk())
	if err != nil {
		t.Fatal(err)
	}
	w := &apitest.CountingWriter{}
	var buf bytes.Buffer
	rec := &teeWriter{CountingWriter: w, b: &buf}
	h.write(rec, 200, mk())
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("write wrote\n%s\nwant\n%s", buf.Bytes(), want)
	}
	if w.Code != 200 {
		t.Errorf("status %d", w.Code)
	}
}

type teeWriter struct {
	*apitest.CountingWriter
	b *bytes.Buffer
}

func (t *teeWriter) Write(p []byte) (int, error) { t.b.Write(p); return t.CountingWriter.Write(p) }
