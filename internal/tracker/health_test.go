package tracker

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// recorder is a slog.Handler that keeps every record.
type recorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.recs = append(r.recs, rec.Clone())
	r.mu.Unlock()
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

// atLeast returns the records of level lvl or above.
func (r *recorder) atLeast(lvl slog.Level) []slog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []slog.Record
	for _, rec := range r.recs {
		if rec.Level >= lvl {
			out = append(out, rec)
		}
	}
	return out
}

func attrInt(rec slog.Record, key string) int64 {
	var v int64 = -1
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.Int64()
			return false
		}
		return true
	})
	return v
}

// TestTrackerHealthReports checks the state machine: a tracker is down
// once minFailures announces in a row failed over the grace period; then
// one report, one more each time the torrents hit grow tenfold, none for
// repeats, and one when it answers again, with the count.
func TestTrackerHealthReports(t *testing.T) {
	var h trackerHealth
	const grace = 30 * time.Second
	t0 := time.Unix(100, 0)
	// Failures within the grace period: not down yet, however many.
	for i := range 50 {
		if r := h.failed([20]byte{byte(i)}, t0.Add(time.Duration(i)*100*time.Millisecond), grace); r != (healthReport{}) {
			t.Fatalf("failure %d within the grace period reported %+v", i, r)
		}
	}
	var reports []healthReport
	for round := range 3 {
		for i := range 1000 {
			if r := h.failed([20]byte{byte(i), byte(i >> 8)}, t0.Add(grace+time.Duration(round)*time.Minute), grace); r != (healthReport{}) {
				reports = append(reports, r)
			}
		}
	}
	want := []int{50, 500} // the 50 torrents failed so far, then tenfold; 5000 is never reached
	if len(reports) != len(want) {
		t.Fatalf("reports = %+v, want counts %v", reports, want)
	}
	for i, r := range reports {
		if !r.down || r.torrents != want[i] || r.first != (i == 0) {
			t.Errorf("report %d = %+v, want down with %d torrents", i, r, want[i])
		}
	}
	r := h.succeeded(t0.Add(5 * time.Minute))
	if !r.back || r.torrents != 1000 || r.downFor != 5*time.Minute {
		t.Errorf("back report = %+v, want back, 1000 torrents, 5m", r)
	}
	if r := h.succeeded(t0.Add(6 * time.Minute)); r != (healthReport{}) {
		t.Errorf("second success reported %+v", r)
	}
}

// TestTrackerHealthFlapping checks that a tracker failing now and then
// between successes (busy, or the daemon briefly out of descriptors) is
// never declared down, so the log does not flap.
func TestTrackerHealthFlapping(t *testing.T) {
	var h trackerHealth
	t0 := time.Unix(100, 0)
	for i := range 1000 {
		now := t0.Add(time.Duration(i) * time.Second)
		var r healthReport
		if i%3 == 2 {
			r = h.succeeded(now)
		} else {
			r = h.failed([20]byte{byte(i)}, now, 0)
		}
		if r != (healthReport{}) {
			t.Fatalf("announce %d reported %+v", i, r)
		}
	}
}

// TestDeadTrackerLogsOnce runs 100 torrents' announcers against a tracker
// that refuses connections, each retrying several times: the log holds a
// constant number of records (not one per torrent per retry), and the last
// counts the torrents hit within a factor of ten.
func TestDeadTrackerLogsOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/announce"
	ln.Close() // connections are now refused

	rec := &recorder{}
	log := slog.New(rec)
	c := NewClient(ClientConfig{AnnounceRate: -1, Logger: log})
	defer c.Close()
	c.health.grace = 0 // the retries come within milliseconds
	const n = 100
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range n {
		a := NewAnnouncer(AnnouncerConfig{Client: c, Tiers: [][]string{{dead}}, InfoHash: [20]byte{byte(i), 1}, Port: 1,
			MinInterval: 5 * time.Millisecond, Logger: log.With("torrent", i)})
		wg.Go(func() { a.Run(ctx) })
	}
	testutil.WaitFor(t, 30*time.Second, "three failed announces per torrent", func() bool {
		for _, hc := range c.AnnounceCounts() {
			if hc.Errors >= 3*n {
				return true
			}
		}
		return false
	})
	cancel()
	wg.Wait()

	warns := rec.atLeast(slog.LevelInfo)
	if len(warns) == 0 || len(warns) > 4 {
		for _, r := range warns {
			t.Logf("%v %s", r.Level, r.Message)
		}
		t.Fatalf("%d records at info or above for %d torrents on a dead tracker, want 1 to 4", len(warns), n)
	}
	// Counts are reported each time they grow tenfold: the last is within
	// a factor of ten of the truth.
	if got := attrInt(warns[len(warns)-1], "torrents"); got < n/10 || got > n {
		t.Errorf("last record %q counts %d torrents, want %d to %d", warns[len(warns)-1].Message, got, n/10, n)
	}
	if debug := len(rec.atLeast(slog.LevelDebug)); debug < 3*n {
		t.Errorf("%d debug records, want each failure at debug level (>= %d)", debug, 3*n)
	}
}

// TestFailureReasonLoggedOncePerRun checks that a tracker refusing a
// torrent ("failure reason") is logged by the torrent once, not at every
// retry, and that it does not count as the tracker being down.
func TestFailureReasonLoggedOncePerRun(t *testing.T) {
	tr := trackertest.New(t)
	tr.SetFailure("unregistered torrent")
	rec := &recorder{}
	c := NewClient(ClientConfig{AnnounceRate: -1})
	defer c.Close()
	a := NewAnnouncer(AnnouncerConfig{Client: c, Tiers: [][]string{{tr.HTTPURL()}}, Port: 1,
		MinInterval: 5 * time.Millisecond, Logger: slog.New(rec)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	testutil.WaitFor(t, 20*time.Second, "four refused announces", func() bool { return tr.Announces() >= 4 })
	cancel()
	<-done
	warns := rec.atLeast(slog.LevelWarn)
	if len(warns) != 1 || warns[0].Message != "tracker announce failed" {
		for _, r := range warns {
			t.Logf("%v %s", r.Level, r.Message)
		}
		t.Fatalf("%d warnings for one refused torrent retrying, want the first failure only", len(warns))
	}
}
