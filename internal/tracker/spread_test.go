package tracker

import (
	"testing"
	"time"
)

// TestSpreadFirstAnnounces checks the schedule of 5,000 torrents restored
// within three seconds: never more than the rate in any second, each
// announce after it was asked for, the last one about 5,000/rate seconds
// later, and a download's lane free of the seeds' queue.
func TestSpreadFirstAnnounces(t *testing.T) {
	const n, rate = 5000, 20
	s := newSpreader(rate)
	t0 := time.Unix(1_000_000, 0)
	perSecond := map[int64]int{}
	var last time.Time
	for i := range n {
		asked := t0.Add(time.Duration(i) * 3 * time.Second / n)
		slot := s.reserve(asked, true)
		if slot.Before(asked) {
			t.Fatalf("torrent %d: slot %v before it asked at %v", i, slot, asked)
		}
		if !slot.After(last) && i > 0 {
			t.Fatalf("torrent %d: slot %v not after the previous %v", i, slot, last)
		}
		last = slot
		perSecond[int64(slot.Sub(t0)/time.Second)]++
	}
	for sec, c := range perSecond {
		if c > rate {
			t.Errorf("second %d: %d announces, want at most %d", sec, c, rate)
		}
	}
	want := time.Duration(n-1) * time.Second / rate
	if got := last.Sub(t0); got < want-time.Second || got > want+time.Second {
		t.Errorf("last announce %v after the start, want about %v", got, want)
	}
	if busy := len(perSecond); busy < n/rate-1 {
		t.Errorf("announces fall in %d distinct seconds, want about %d", busy, n/rate)
	}

	// A download asking now is not queued behind the seeds.
	now := t0.Add(5 * time.Second)
	if slot := s.reserve(now, false); !slot.Equal(now) {
		t.Errorf("download's first announce at %v, want at once (%v)", slot, now)
	}
	// Once the seeds' lane has drained, a new seed goes at once too.
	later := last.Add(time.Minute)
	if slot := s.reserve(later, true); !slot.Equal(later) {
		t.Errorf("seed added to a quiet lane announces at %v, want %v", slot, later)
	}
}

// TestSpreadUnlimited checks that a negative rate turns spreading off.
func TestSpreadUnlimited(t *testing.T) {
	s := newSpreader(-1)
	now := time.Unix(5, 0)
	for range 100 {
		if slot := s.reserve(now, true); !slot.Equal(now) {
			t.Fatalf("unlimited spreader delayed an announce to %v", slot)
		}
	}
}
