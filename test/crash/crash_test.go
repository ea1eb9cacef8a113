package crash

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/swarmtest"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

const (
	payloadSize = 24 << 20
	pieceLength = 256 << 10
	// seedRate is each seeder's upload limit: two seeders make the
	// download take about 12 s of transfer time, spread over the rounds.
	seedRate = 1 << 20
	rounds   = 6
	// lostPerStop is how many received bytes one kill or pause may waste:
	// eight pieces' worth of partly received pieces (see the end of
	// TestCrashKill9).
	lostPerStop = 8 * pieceLength
)

// killKind is how a round ends.
type killKind int

const (
	// killPlain kills the daemon while it downloads; its last flush (if
	// any) is from an earlier run.
	killPlain killKind = iota
	// killAfterFlush forces a flush (pause, which syncs the files and saves
	// the resume data, then resume), downloads some more and kills: the
	// kill finds pieces written after the last flush.
	killAfterFlush
	// killDuringFlush kills the daemon a few milliseconds after asking it
	// to pause, racing the pause's file sync and database write.
	killDuringFlush
)

func (k killKind) String() string {
	return [...]string{"plain", "after-flush", "during-flush"}[k]
}

// roundLog is what one kill round observed.
type roundLog struct {
	kind      killKind
	atRestart int   // pieces the daemon reported right after its data check
	saved     int   // pieces in the saved resume bitfield after the kill
	onDisk    int   // pieces whose bytes on disk were good after the kill
	received  int64 // payload bytes the daemon received in the round
	kept      int64 // good bytes on disk gained during the round
}

// stops is how many times the round dropped its connections (and so its
// partly received pieces): the kill, plus a completed pause.
func (rl roundLog) stops() int {
	if rl.kind == killAfterFlush {
		return 2
	}
	return 1
}

// crashRun is the state the rounds carry from one to the next.
type crashRun struct {
	dirs       daemonDirs
	meta       *metainfo.MetaInfo
	torrent    []byte
	hash       string
	rng        *rand.Rand
	goodBefore int64 // good bytes on disk when the round starts
	restored   int64 // the all-time downloaded total the daemon starts from
	received   int64 // payload bytes received over all runs
}

// between returns a random duration in [lo, hi).
func (c *crashRun) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(c.rng.Int64N(int64(hi-lo)))
}

// restart starts the daemon again and checks that it restored the torrent
// by itself and kept every good piece on disk. It returns the daemon and
// the torrent's detail after the data check.
func (c *crashRun) restart(t *testing.T, n int) (*daemon, session.Detail) {
	t.Helper()
	dm := startDaemon(t, c.dirs, n)
	if _, code := dm.detail(t, c.hash); code != http.StatusOK {
		t.Fatalf("start %d: GET /api/v1/torrents/%s gave HTTP %d: the torrent was not restored from the database\n%s", n, c.hash, code, dm.logTail())
	}
	checked := func(d session.Detail) bool {
		return d.State != session.StateChecking && d.State != session.StateMetadata
	}
	d := dm.waitDetail(t, c.hash, 20*time.Second, "the data check after a restart", checked)
	if d.State == session.StatePaused {
		// A kill during a pause left it recorded as paused.
		dm.post(t, "/api/v1/torrents/"+c.hash+"/resume")
		d = dm.waitDetail(t, c.hash, 20*time.Second, "the data check after resuming", func(d session.Detail) bool {
			return checked(d) && d.State != session.StatePaused
		})
	}
	if d.Completed < c.goodBefore {
		t.Errorf("start %d: after its data check the daemon has %d bytes verified, but %d bytes of good pieces were on disk: it threw away data that had reached the disk",
			n, d.Completed, c.goodBefore)
	}
	if d.Downloaded < c.restored {
		t.Errorf("start %d: the daemon reports %d bytes downloaded in all; the database held %d", n, d.Downloaded, c.restored)
	}
	return dm, d
}

// round runs the daemon once, kills it with SIGKILL at a random point and
// checks what it left on disk and in its database.
func (c *crashRun) round(t *testing.T, r int, kind killKind) roundLog {
	t.Helper()
	rl := roundLog{kind: kind}
	var dm *daemon
	if r == 0 {
		dm = startDaemon(t, c.dirs, r)
		dm.addTorrent(t, c.torrent)
	} else {
		var d session.Detail
		dm, d = c.restart(t, r)
		rl.atRestart = int(d.Completed / pieceLength)
	}

	time.Sleep(c.between(300*time.Millisecond, 2*time.Second))
	if kind == killAfterFlush {
		dm.post(t, "/api/v1/torrents/"+c.hash+"/pause")
		dm.post(t, "/api/v1/torrents/"+c.hash+"/resume")
		time.Sleep(c.between(300*time.Millisecond, 1500*time.Millisecond))
	}
	// The daemon counts payload bytes as they arrive; read the count right
	// before the kill (a millisecond of transfer is missed).
	last, code := dm.detail(t, c.hash)
	if code != http.StatusOK {
		t.Fatalf("round %d: GET torrent: HTTP %d", r, code)
	}
	if kind == killDuringFlush {
		done := dm.postAsync("/api/v1/torrents/" + c.hash + "/pause")
		time.Sleep(c.between(0, 5*time.Millisecond)) // a pause takes ~3 ms
		dm.kill(t)
		select {
		case <-done:
		case <-time.After(2 * apiTimeout):
			t.Fatalf("round %d: the pause request did not return after the kill", r)
		}
	} else {
		dm.kill(t)
	}

	saved := readSaved(t, c.dirs.data, c.meta)
	if saved.rec.Downloaded > last.Downloaded {
		t.Errorf("round %d: saved all-time downloaded %d exceeds the %d the daemon reported before the kill", r, saved.rec.Downloaded, last.Downloaded)
	}
	rl.received = last.Downloaded - c.restored
	c.received += rl.received
	c.restored = saved.rec.Downloaded

	good := goodPieces(t, c.meta, c.dirs.download)
	if bad := notIn(saved.verified, good); len(bad) > 0 {
		t.Errorf("round %d (%s kill): the state database marks %d pieces verified whose data on disk is wrong: %v", r, kind, len(bad), bad)
	}
	if kind == killAfterFlush && !saved.hasResume {
		t.Errorf("round %d: a completed pause saved no resume data", r)
	}
	rl.saved, rl.onDisk = saved.verified.Count(), good.Count()
	goodNow := bytesOf(c.meta, good)
	rl.kept = goodNow - c.goodBefore
	c.goodBefore = goodNow
	return rl
}

// TestCrashKill9 is the crash test: a real `gobit serve` downloads a
// torrent from two in-process seeders and is killed with SIGKILL at random
// points in several rounds. After every kill the state database must list
// the torrent, and every piece its resume bitfield calls verified must hash
// correctly on disk. After every restart the daemon must know the torrent
// without it being re-added and must keep every good piece already on disk,
// so only the pieces in flight at a kill are fetched again. Finally the
// download completes byte-identical and the bytes received in all stay
// within a bound.
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: builds gobit and runs it for about 20 s")
	}
	start := time.Now()
	tmp := t.TempDir()
	bin := testutil.BuildGobit(t, tmp)
	t.Logf("built gobit in %v", time.Since(start).Round(time.Millisecond))

	tr := trackertest.New(t)
	tr.SetInterval(time.Second, time.Second)
	var seedDirs []string
	for i := range 2 {
		dir := filepath.Join(tmp, fmt.Sprintf("seed%d", i))
		swarmtest.Payload(t, dir, "crash.bin", 42, map[string]int{"": payloadSize})
		seedDirs = append(seedDirs, dir)
	}
	data, meta := swarmtest.MakeTorrent(t, filepath.Join(seedDirs[0], "crash.bin"), pieceLength, tr.HTTPURL())
	hash := meta.InfoHash.String()
	var seeds []*session.Session
	for _, dir := range seedDirs {
		s := swarmtest.NewSessionWith(t, session.Config{DownloadDir: dir, UploadLimit: seedRate})
		if _, err := s.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, s)
	}
	for _, s := range seeds {
		swarmtest.WaitState(t, s, hash, 30*time.Second, session.StateSeeding)
	}

	c := &crashRun{
		dirs: daemonDirs{
			bin:      bin,
			download: filepath.Join(tmp, "leech"),
			data:     filepath.Join(tmp, "state"),
			logs:     filepath.Join(tmp, "logs"),
		},
		meta:    meta,
		torrent: data,
		hash:    hash,
		rng:     rand.New(rand.NewPCG(2024, 9)),
	}
	if err := os.MkdirAll(c.dirs.logs, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keepLogs(t, c.dirs.logs) })
	var logs []roundLog
	for r := range rounds {
		logs = append(logs, c.round(t, r, []killKind{killPlain, killAfterFlush, killDuringFlush}[r%3]))
	}

	// Last start: the download must finish from what is on disk.
	dm, d := c.restart(t, rounds)
	atFinal := int(d.Completed / pieceLength)
	d = dm.waitDetail(t, hash, 45*time.Second, "the download to complete", func(d session.Detail) bool {
		return d.State == session.StateSeeding
	})
	c.received += d.Downloaded - c.restored
	swarmtest.SameTree(t, seedDirs[0], c.dirs.download)
	dm.stop(t, 15*time.Second)

	// A clean shutdown after completion saves a full bitfield.
	saved := readSaved(t, c.dirs.data, meta)
	if !saved.verified.Full() {
		t.Errorf("after completion and a clean shutdown the resume data has %d of %d pieces", saved.verified.Count(), saved.verified.Len())
	}
	if saved.rec.CompletedAt.IsZero() {
		t.Errorf("the torrent record has no completion time")
	}

	var sent int64
	for _, s := range seeds {
		sent += swarmtest.Status(t, s, hash).Uploaded
	}
	for r, rl := range logs {
		t.Logf("round %d (%s kill): %d pieces after the restart check; killed with %d pieces good on disk, %d in the saved bitfield; received %d KiB, kept %d KiB",
			r, rl.kind, rl.atRestart, rl.onDisk, rl.saved, rl.received>>10, rl.kept>>10)
	}
	t.Logf("final start: %d pieces after the check; received %d bytes in all runs (%.3f× the %d-byte torrent); API all-time downloaded %d; the seeders' status says %d uploaded; %v in all",
		atFinal, c.received, float64(c.received)/payloadSize, int64(payloadSize), d.Downloaded, sent, time.Since(start).Round(time.Millisecond))

	// Only the pieces in flight at a kill (or at a pause, which drops its
	// connections) may be fetched again: everything received into a piece
	// that was written is kept by the next start's check. Each seeder
	// serves its requests in order and the picker keeps a peer's requests
	// within the pieces it started, so a connection has a piece or two
	// partly received at any moment; allow lostPerStop (8 pieces, 4 per
	// seeder) per kill or pause, and as much again for the final run's
	// endgame duplicates.
	stops := 0
	for r, rl := range logs {
		stops += rl.stops()
		if lost, max := rl.received-rl.kept, int64(rl.stops())*lostPerStop; lost > max {
			t.Errorf("round %d: received %d bytes but only %d reached the disk as good pieces; at most %d may be lost to in-flight pieces",
				r, rl.received, rl.kept, max)
		}
	}
	if limit := int64(payloadSize) + int64(stops+1)*lostPerStop; c.received > limit {
		t.Errorf("the daemon received %d bytes in all for a %d-byte torrent over %d kills and pauses; want at most %d", c.received, payloadSize, stops, limit)
	}
	// The all-time total the API reports loses what a killed run had not
	// flushed yet, so it can only be lower than what was received.
	if d.Downloaded > c.received {
		t.Errorf("the API reports %d bytes downloaded in all, more than the %d received", d.Downloaded, c.received)
	}
}
