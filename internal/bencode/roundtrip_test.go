package bencode

import (
	"bytes"
	"reflect"
	"testing"
)

func TestRoundTripTorrent(t *testing.T) {
	in := makeTorrent(100)
	var tr testTorrent
	if err := Unmarshal(in, &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Info.Pieces) != 2000 || len(tr.Info.Files) != 8 || tr.Info.Files[3].Path[1] != "file-3.bin" {
		t.Fatalf("decoded %+v", tr.Info.Files)
	}
	out, err := Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, in) {
		t.Fatal("canonical torrent changed on round trip")
	}
	var tr2 testTorrent
	if err := Unmarshal(out, &tr2); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tr, tr2) {
		t.Fatal("decoded values differ after round trip")
	}
	// The raw shape round-trips byte for byte too.
	var raw testTorrentRaw
	if err := Unmarshal(in, &raw); err != nil {
		t.Fatal(err)
	}
	out, err = Marshal(raw)
	if err != nil || !bytes.Equal(out, in) {
		t.Fatalf("raw round trip differs: %v", err)
	}
}

func TestRoundTripValues(t *testing.T) {
	type inner struct {
		A []int           `bencode:"a"`
		M map[string]bool `bencode:"m"`
		H [20]byte        `bencode:"h"`
	}
	type outer struct {
		I   int64             `bencode:"i"`
		U   uint16            `bencode:"u"`
		S   string            `bencode:"s"`
		B   []byte            `bencode:"b"`
		P   *inner            `bencode:"p"`
		L   []inner           `bencode:"l"`
		Any any               `bencode:"any"`
		Raw RawMessage        `bencode:"raw"`
		Map map[string][]byte `bencode:"map"`
	}
	v := outer{
		I: -1 << 40, U: 65535, S: "héllo", B: []byte{0, 255},
		P:   &inner{A: []int{1, -1}, M: map[string]bool{"t": true, "f": false}, H: [20]byte{1, 2, 3}},
		L:   []inner{{A: []int{}, M: map[string]bool{}}},
		Any: map[string]any{"x": []any{int64(1), "y"}},
		Raw: RawMessage("d1:zi0e1:ai0ee"),
		Map: map[string][]byte{"k": []byte("v")},
	}
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var got outer
	if err := Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, v) {
		t.Fatalf("got %+v\nwant %+v", got, v)
	}
}
