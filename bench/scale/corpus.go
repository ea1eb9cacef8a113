package main

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/gobit/gobit/internal/bencode"
)

// item is one generated torrent: its metainfo, its info hash and the
// name of its single file.
type item struct {
	Torrent []byte
	Hash    [20]byte
	Name    string
	Size    int64
	Active  bool // downloaded during the run from the libtorrent seeder
}

// corpus is the benchmark's torrents, the idle ones first.
type corpus struct {
	Items   []item
	DataDir string // every payload file, named by item.Name
}

// makeCorpus generates n single-file torrents, the last active of them
// activeSize bytes and the rest idleSize, with deterministic contents, and
// writes their payloads below dir/data. Every torrent announces to
// announce; when deadShare > 0, that share of the idle torrents announce
// to dead instead (a tracker nobody answers), to measure the log.
func makeCorpus(dir string, n, active int, idleSize, activeSize int64, announce, dead string, deadShare float64) (*corpus, error) {
	c := &corpus{DataDir: filepath.Join(dir, "data")}
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return nil, err
	}
	deadEvery := 0
	if deadShare > 0 {
		deadEvery = int(1 / deadShare)
	}
	for i := 0; i < n; i++ {
		it := item{Name: fmt.Sprintf("scale-%05d.bin", i), Size: idleSize, Active: i >= n-active}
		if it.Active {
			it.Size = activeSize
		}
		url := announce
		if !it.Active && deadEvery > 0 && i%deadEvery == 0 {
			url = dead
		}
		data := payload(uint64(i), it.Size)
		path := filepath.Join(c.DataDir, it.Name)
		if st, err := os.Stat(path); err != nil || st.Size() != it.Size {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				return nil, err
			}
		}
		var err error
		it.Torrent, it.Hash, err = makeTorrent(it.Name, data, url)
		if err != nil {
			return nil, err
		}
		c.Items = append(c.Items, it)
	}
	return c, nil
}

// payload returns size deterministic pseudo-random bytes for seed.
func payload(seed uint64, size int64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5ca1e))
	b := make([]byte, size)
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b
}

// pieceLength is the piece size of every generated torrent.
const pieceLength = 16 << 10

// makeTorrent returns a single-file .torrent for data and its info hash.
func makeTorrent(name string, data []byte, announce string) ([]byte, [20]byte, error) {
	var pieces []byte
	for off := 0; off < len(data); off += pieceLength {
		end := min(off+pieceLength, len(data))
		h := sha1.Sum(data[off:end])
		pieces = append(pieces, h[:]...)
	}
	info := map[string]any{
		"name":         name,
		"length":       int64(len(data)),
		"piece length": int64(pieceLength),
		"pieces":       string(pieces),
	}
	rawInfo, err := bencode.Marshal(info)
	if err != nil {
		return nil, [20]byte{}, err
	}
	t, err := bencode.Marshal(map[string]any{
		"announce": announce,
		"info":     bencode.RawMessage(rawInfo),
	})
	return t, sha1.Sum(rawInfo), err
}
