package bencode

import (
	"bytes"
	"crypto/sha1"
	"testing"
)

// TestRawMessageKeepsNonCanonicalBytes is the info-hash rule: the bytes of
// the info dictionary are kept exactly as received, even when its keys are
// unsorted or duplicated, and re-encoding writes them back unchanged.
func TestRawMessageKeepsNonCanonicalBytes(t *testing.T) {
	info := "d4:name1:x1:ai1e1:ai2e6:pieces0:e" // unsorted and duplicate keys
	in := []byte("d8:announce1:u4:info" + info + "e")
	var tr struct {
		Announce string     `bencode:"announce"`
		Info     RawMessage `bencode:"info"`
	}
	if err := Unmarshal(in, &tr); err != nil {
		t.Fatal(err)
	}
	if string(tr.Info) != info {
		t.Fatalf("Info = %q, want %q", tr.Info, info)
	}
	if sha1.Sum(tr.Info) != sha1.Sum([]byte(info)) {
		t.Fatal("info hash differs")
	}
	out, err := Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, in) {
		t.Fatalf("re-encoded %q, want %q", out, in)
	}
	// Decoding the same value into a map and re-encoding canonicalizes it,
	// which is why RawMessage is needed.
	var m map[string]any
	if err := Unmarshal([]byte(info), &m); err != nil {
		t.Fatal(err)
	}
	canon, _ := Marshal(m)
	if bytes.Equal(canon, []byte(info)) {
		t.Fatal("test input is unexpectedly canonical")
	}
}

func TestRawMessageTopLevelAndList(t *testing.T) {
	var raw RawMessage
	if err := Unmarshal([]byte("li1e3:abce"), &raw); err != nil || string(raw) != "li1e3:abce" {
		t.Fatalf("got %q, %v", raw, err)
	}
	var list []RawMessage
	if err := Unmarshal([]byte("li01e"), &list); err == nil {
		t.Fatal("syntax error inside a raw value was not reported")
	}
	if err := Unmarshal([]byte("li1ed1:bi1e1:aleee"), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || string(list[0]) != "i1e" || string(list[1]) != "d1:bi1e1:alee" {
		t.Fatalf("got %q", list)
	}
}

func TestRawMessageMethods(t *testing.T) {
	var m RawMessage
	if err := m.UnmarshalBencode([]byte("i1ei2e")); err == nil {
		t.Fatal("UnmarshalBencode accepted two values")
	}
	if err := m.UnmarshalBencode([]byte("i1e")); err != nil || string(m) != "i1e" {
		t.Fatalf("got %q, %v", m, err)
	}
	if _, err := RawMessage("x").MarshalBencode(); err == nil {
		t.Fatal("MarshalBencode accepted invalid bytes")
	}
}

// TestRealTorrent decodes a real-looking torrent into both shapes and checks
// that the raw info hashes the same bytes the full decode saw.
func TestRealTorrent(t *testing.T) {
	var raw testTorrentRaw
	if err := Unmarshal([]byte(realTorrent), &raw); err != nil {
		t.Fatal(err)
	}
	start := bytes.Index([]byte(realTorrent), []byte("4:infod")) + len("4:info")
	if want := realTorrent[start : len(realTorrent)-1]; string(raw.Info) != want {
		t.Fatalf("raw info %q, want %q", raw.Info, want)
	}
	var full testTorrent
	if err := Unmarshal([]byte(realTorrent), &full); err != nil {
		t.Fatal(err)
	}
	if full.Info.Name != "file.bin" || full.Info.Length != 40000 || !full.Info.Private ||
		len(full.Info.Pieces) != 40 || full.Info.Source != "TEST" || len(full.AnnounceList) != 2 {
		t.Fatalf("decoded %+v", full)
	}
}

// TestRealTorrentInfoHash checks that re-encoding the decoded info would
// change the hash (the info keys are unsorted) while RawMessage keeps it.
func TestRealTorrentInfoHash(t *testing.T) {
	var raw testTorrentRaw
	if err := Unmarshal([]byte(realTorrent), &raw); err != nil {
		t.Fatal(err)
	}
	var info testInfo
	if err := Unmarshal(raw.Info, &info); err != nil {
		t.Fatal(err)
	}
	reenc, err := Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	if sha1.Sum(reenc) == sha1.Sum(raw.Info) {
		t.Fatal("canonical re-encoding should differ from the unsorted original")
	}
	if !bytes.Contains([]byte(realTorrent), raw.Info) {
		t.Fatal("raw info is not a substring of the input")
	}
}
