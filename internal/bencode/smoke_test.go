package bencode

import (
	"bytes"
	"testing"
)

type smokeInfo struct {
	Name   string `bencode:"name"`
	PL     int64  `bencode:"piece length"`
	Pieces []byte `bencode:"pieces"`
}

type smokeTorrent struct {
	Announce string     `bencode:"announce"`
	Info     RawMessage `bencode:"info"`
}

func TestSmoke(t *testing.T) {
	in := []byte("d8:announce3:url4:infod4:name1:a12:piece lengthi16384e6:pieces0:ee")
	var tt smokeTorrent
	if err := Unmarshal(in, &tt); err != nil {
		t.Fatal(err)
	}
	var info smokeInfo
	if err := Unmarshal(tt.Info, &info); err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(tt)
	if err != nil || !bytes.Equal(out, in) {
		t.Fatalf("%s %v", out, err)
	}
	var x any
	if err := NewDecoder(bytes.NewReader(in)).Decode(&x); err != nil {
		t.Fatal(err)
	}
	t.Logf("%#v %#v", info, x)
}
