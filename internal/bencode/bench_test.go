package bencode

import (
	"testing"
)

// BenchmarkDecodeTorrent10kPieces decodes a multi-file torrent with 10,000
// pieces (a 200 KB pieces string).
func BenchmarkDecodeTorrent10kPieces(b *testing.B) {
	data := makeTorrent(10000)
	b.Run("RawInfo", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var t testTorrentRaw
			if err := Unmarshal(data, &t); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FullInfo", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var t testTorrent
			if err := Unmarshal(data, &t); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Any", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var v any
			if err := Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEncode encodes the same torrent from its struct form.
func BenchmarkEncode(b *testing.B) {
	data := makeTorrent(10000)
	var t testTorrent
	if err := Unmarshal(data, &t); err != nil {
		b.Fatal(err)
	}
	b.Run("Marshal", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Marshal(t); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecodeSmallMessage decodes a typical extension-protocol
// handshake, the hot small-message case.
func BenchmarkDecodeSmallMessage(b *testing.B) {
	data := []byte("d1:md11:ut_metadatai1e6:ut_pexi2ee13:metadata_sizei31235e1:pi6881e4:reqqi250e1:v11:gobit 0.1.0e")
	type hs struct {
		M            map[string]int `bencode:"m"`
		MetadataSize int            `bencode:"metadata_size"`
		Port         int            `bencode:"p"`
		Reqq         int            `bencode:"reqq"`
		Version      string         `bencode:"v"`
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var h hs
		if err := Unmarshal(data, &h); err != nil {
			b.Fatal(err)
		}
	}
}
