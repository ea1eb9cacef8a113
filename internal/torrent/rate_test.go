package torrent

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
)

func TestRateShownFallsToZeroWhenIdle(t *testing.T) {
	var r rate
	for range 10 {
		r.update(10 << 20)
	}
	if r.shown() < 9<<20 {
		t.Fatalf("steady 10 MiB/s shown as %d", r.shown())
	}
	for i := 1; i < rateIdleTicks; i++ {
		r.update(0)
		if r.shown() == 0 {
			t.Fatalf("shown 0 after only %d idle seconds", i)
		}
	}
	r.update(0)
	if r.shown() != 0 {
		t.Fatalf("after %d idle seconds shown %d, want 0", rateIdleTicks, r.shown())
	}
	if r.get() == 0 {
		t.Error("the smoothed estimate (for the request queue) dropped to 0 at once")
	}
	r.update(4096)
	if r.shown() == 0 {
		t.Error("traffic again, still shown 0")
	}
}

// TestTorrentRatesFallToZero runs a torrent's loop on synctest's clock:
// payload counted on the loop shows as a rate, which falls to 0 when
// nothing more arrives and at once when the torrent is paused.
func TestTorrentRatesFallToZero(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ih metainfo.Hash
		ih[0] = 1
		tor := New(Config{InfoHash: ih, Name: "rates"})
		defer tor.Close(false)
		flow := func(down, up int64) {
			if err := tor.do(func() { tor.downloaded.Add(down); tor.uploaded.Add(up) }); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			flow(1<<20, 1<<19)
			time.Sleep(time.Second)
			synctest.Wait()
		}
		st := tor.Stats()
		if st.DownloadRate < 512<<10 || st.UploadRate < 256<<10 {
			t.Fatalf("while data flows: rates %d/%d", st.DownloadRate, st.UploadRate)
		}
		// Idle: the rates reach 0 within rateIdleTicks seconds.
		time.Sleep(rateIdleTicks*time.Second + 500*time.Millisecond)
		synctest.Wait()
		if st := tor.Stats(); st.DownloadRate != 0 || st.UploadRate != 0 {
			t.Fatalf("idle %ds: rates %d/%d, want 0", rateIdleTicks, st.DownloadRate, st.UploadRate)
		}
		// Traffic again, then a pause: 0 at once, without waiting a tick.
		flow(1<<20, 1<<20)
		time.Sleep(time.Second)
		synctest.Wait()
		if st := tor.Stats(); st.DownloadRate == 0 {
			t.Fatal("traffic after idling shows no rate")
		}
		// Seeding: nothing is downloaded, whatever the smoothed rate says;
		// uploads still show.
		if err := tor.do(func() { tor.state = StateSeeding; tor.publish() }); err != nil {
			t.Fatal(err)
		}
		if st := tor.Stats(); st.DownloadRate != 0 || st.UploadRate == 0 {
			t.Fatalf("seeding: rates %d/%d, want 0 down and some up", st.DownloadRate, st.UploadRate)
		}
		if err := tor.do(func() { tor.state = StateMetadata }); err != nil {
			t.Fatal(err)
		}
		if err := tor.Pause(); err != nil {
			t.Fatal(err)
		}
		if st := tor.Stats(); st.DownloadRate != 0 || st.UploadRate != 0 || st.State != StatePaused {
			t.Fatalf("paused: state %s rates %d/%d", st.State, st.DownloadRate, st.UploadRate)
		}
		if err := tor.Resume(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if st := tor.Stats(); st.DownloadRate != 0 {
			t.Fatalf("resumed without traffic: rate %d, want 0 (the rate before the pause is forgotten)", st.DownloadRate)
		}
	})
}
