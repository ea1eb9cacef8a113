package choker

import (
	"math/rand/v2"
	"testing"
	"time"
)

// FuzzReview drives Review with arbitrary peer sets and slot counts (each
// peer is 4 bytes of flags and rates) and checks the invariants.
func FuzzReview(f *testing.F) {
	f.Add([]byte{0xff, 1, 2, 3, 0x0f, 4, 5, 6}, int8(4), uint8(3), true)
	f.Add([]byte{0x01, 0, 0, 0, 0x01, 0, 0, 0, 0x03, 9, 9, 9}, int8(1), uint8(1), false)
	f.Add([]byte{}, int8(-1), uint8(0), false)
	f.Fuzz(func(t *testing.T, data []byte, slots int8, every uint8, seeding bool) {
		c := New(Config{Slots: int(slots), OptimisticEvery: int(every)}, rand.New(rand.NewPCG(uint64(len(data)), 1)))
		now := t0
		var peers []Peer
		for i := 0; i+4 <= len(data) && len(peers) < 200; i += 4 {
			b := data[i : i+4]
			peers = append(peers, Peer{
				ID:           int(b[1] % 32), // duplicates on purpose
				Interested:   b[0]&1 != 0,
				Choked:       b[0]&2 != 0,
				Snubbed:      b[0]&4 != 0,
				Seed:         b[0]&8 != 0,
				DownloadRate: int64(b[2]) - 10,
				UploadRate:   int64(b[3]) - 10,
				ConnectedAt:  now.Add(-time.Duration(b[2]) * time.Second),
				LastUnchoked: now.Add(-time.Duration(b[3]) * time.Second),
			})
		}
		for range 4 {
			set := c.Review(peers, seeding, now)
			checkInvariants(t, c, peers, set)
			apply(peers, set, now)
			now = now.Add(10 * time.Second)
		}
	})
}
