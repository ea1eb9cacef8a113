package torrent

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestLatencyHistogram(t *testing.T) {
	var h LatencyHistogram
	for _, d := range []time.Duration{100 * time.Microsecond, 500 * time.Microsecond, 3 * time.Millisecond, 2 * time.Second, time.Minute} {
		h.Observe(d)
	}
	v := h.Values()
	if v.Count != 5 {
		t.Errorf("count %d, want 5", v.Count)
	}
	if want := (100*time.Microsecond + 500*time.Microsecond + 3*time.Millisecond + 2*time.Second + time.Minute).Seconds(); v.Sum < want-1e-9 || v.Sum > want+1e-9 {
		t.Errorf("sum %v, want %v", v.Sum, want)
	}
	at := func(bound float64) uint64 { return v.Counts[slices.Index(v.Bounds, bound)] }
	// Cumulative: at most 0.5 ms: two (a bound is inclusive); at most
	// 5 ms: three; at most 2.5 s: four; the minute is only in +Inf.
	for bound, want := range map[float64]uint64{0.0005: 2, 0.001: 2, 0.005: 3, 1: 3, 2.5: 4, 10: 4} {
		if got := at(bound); got != want {
			t.Errorf("le %v: %d, want %d", bound, got, want)
		}
	}
}

func TestCountersNilAndErrors(t *testing.T) {
	var nilc *Counters
	nilc.addDownloaded(5)
	nilc.diskResult(pieceVerified{err: errors.New("x")})
	if v := nilc.Values(); v.DownloadedBytes != 0 || len(v.PieceWrites.Counts) != len(LatencyBuckets) {
		t.Errorf("nil counters: %+v", v)
	}
	c := new(Counters)
	c.diskResult(pieceVerified{ok: true})
	c.diskResult(blockRead{err: errors.New("read")})
	c.diskResult(dataSynced{err: errors.New("sync")})
	c.hashFailed()
	c.protocolError()
	c.addDownloaded(10)
	c.addUploaded(7)
	want := CounterValues{DownloadedBytes: 10, UploadedBytes: 7, HashFailures: 1, ProtocolErrors: 1, DiskErrors: 2}
	got := c.Values()
	if got.PieceWrites.Count != 0 {
		t.Errorf("piece writes %d, none observed", got.PieceWrites.Count)
	}
	got.PieceWrites, want.PieceWrites = HistogramValues{}, HistogramValues{}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestDiskQueue checks the pool's running and queued jobs.
func TestDiskQueue(t *testing.T) {
	d := NewDiskPool(1)
	release := make(chan struct{})
	started := make(chan struct{}, 3)
	for range 3 {
		d.Go(func() { started <- struct{}{}; <-release })
	}
	<-started
	if r, q := d.DiskQueue(); r != 1 || q != 2 {
		t.Errorf("running %d, queued %d; want 1, 2", r, q)
	}
	close(release)
	<-started
	<-started
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, q := d.DiskQueue()
		if r == 0 && q == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("running %d, queued %d after every job finished", r, q)
		}
		time.Sleep(time.Millisecond)
	}
}
