package browser

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// liveResult is live.js's RESULT line.
type liveResult struct {
	Steps      []string `json:"steps"`
	PageErrors []string `json:"pageErrors"`
	Play       *struct {
		Meta                float64  `json:"meta"`                // ms until the video torrent had its metadata
		ProgressAtStart     float64  `json:"progressAtStart"`     // the torrent's progress when the video element was made
		Fetched             []string `json:"fetched"`             // when a plain fetch of the stream had 64 KiB, 128 KiB, ...
		HaveTimeline        []string `json:"haveTimeline"`        // pieces the daemon had, when the count changed
		PiecesAtFirstFrame  string   `json:"piecesAtFirstFrame"`  // the pieces the daemon had then, as 0 and 1
		ProgressAtOneSecond float64  `json:"progressAtOneSecond"` // and when currentTime passed 1 s
		FirstFrame          float64  `json:"firstFrame"`          // ms from src to loadeddata
		OneSecond           float64  `json:"oneSecond"`           // ms from src to currentTime > 1 s
		CurrentTime         float64  `json:"currentTime"`
		Width               int      `json:"width"`
		Events              []string `json:"events"`
	} `json:"play"`
	Samples []struct {
		Ms    int    `json:"ms"`
		Pct   string `json:"pct"`
		State string `json:"state"`
	} `json:"samples"`
	StreamRequests []string `json:"streamRequests"` // Range headers the <video> sent, with when
	Modes          []string `json:"modes"`
	NotReloaded    bool     `json:"notReloaded"`
	Filtered       []string `json:"filtered"`
}

// TestBrowserLive drives the web UI against two real daemons, with nothing
// faked: a seeder daemon has a WebM clip (recorded in chromium itself from a
// canvas) and a 1 MiB file; a leecher daemon gets both by magnet from it,
// the clip limited to download in about 5 s and the file at 128 KiB/s. The page plays the clip through the leecher's
// stream URL while it downloads (currentTime passes 1 s), watches the other
// torrent's row rise to 100 % and seeding from the event stream without a
// reload, filters the list by a category created through the API, and sets
// the clip's priority in the Files tab, which the daemon then reports.
func TestBrowserLive(t *testing.T) {
	br := newBrowserRun(t, "two daemons")
	tmp := br.tmp
	seedDir := filepath.Join(tmp, "seed")
	if err := os.MkdirAll(seedDir, 0o755); err != nil {
		t.Fatal(err)
	}

	// The clip: 8 s of a canvas, half noise, at about 1 Mbit/s (about
	// 750 KB, some 48 pieces of 16 KiB), recorded by chromium's
	// MediaRecorder: no ffmpeg needed.
	clip := filepath.Join(seedDir, "clip.webm")
	start := time.Now()
	br.runOK(t, "live.js", map[string]any{"out": clip, "seconds": 8, "bitsPerSecond": 1_000_000}, "record")
	fi, err := os.Stat(clip)
	if err != nil || fi.Size() < 4<<10 {
		t.Fatalf("recorded clip: %v (size %d)", err, fi.Size())
	}
	t.Logf("recorded a %d-byte VP8 WebM in chromium in %.1f s", fi.Size(), time.Since(start).Seconds())
	bulk := filepath.Join(seedDir, "progress.bin")
	b := make([]byte, 1<<20)
	rand.Read(b)
	if err := os.WriteFile(bulk, b, 0o644); err != nil {
		t.Fatal(err)
	}
	clipTorrent, clipMI, err := metainfo.Create(metainfo.CreateOptions{Path: clip, PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	bulkTorrent, bulkMI, err := metainfo.Create(metainfo.CreateOptions{Path: bulk, PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}

	peerPort, err := testutil.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	seeder := br.daemon(t, "seeder", seedDir, "--port", strconv.Itoa(peerPort))
	for _, tb := range [][]byte{clipTorrent, bulkTorrent} {
		seeder.seed(t, tb)
	}

	leechDir := filepath.Join(tmp, "leech")
	leecher := br.daemon(t, "leecher", leechDir)
	const category = "clips"
	catDir := filepath.Join(tmp, "leech-clips")
	cat, _ := json.Marshal(session.Category{Name: category, SavePath: catDir})
	if code, body := leecher.do(t, "POST", "/api/v1/categories", "application/json", cat); code != http.StatusCreated {
		t.Fatalf("create category: %d %s", code, body)
	}
	clipHash, bulkHash := clipMI.InfoHash.String(), bulkMI.InfoHash.String()
	peer := fmt.Sprintf("127.0.0.1:%d", peerPort)
	for _, a := range []struct{ hash, name, query string }{
		{clipHash, "clip.webm", "&category=" + category},
		{bulkHash, "progress.bin", ""},
	} {
		leecher.addMagnet(t, "magnet:?xt=urn:btih:"+a.hash+"&dn="+a.name+"&x.pe="+peer, "paused=true"+a.query)
	}

	// The clip downloads in about 5 s (1.6 times its bit rate), so the
	// page plays it while it is still arriving.
	// The other file at 128 KiB/s takes about 8 s.
	clipRate := max(fi.Size()/5, 8<<10)
	for h, rate := range map[string]int64{clipHash: clipRate, bulkHash: 128 << 10} {
		lim, _ := json.Marshal(map[string]int64{"download_limit": rate})
		if code, body := leecher.do(t, "PATCH", "/api/v1/torrents/"+h, "application/json", lim); code != http.StatusOK && code != http.StatusNoContent {
			t.Fatalf("limit %s: %d %s", h, code, body)
		}
	}

	var res liveResult
	br.runResult(t, "live.js", map[string]any{
		"base":         leecher.base,
		"videoHash":    clipHash,
		"progressHash": bulkHash,
		"category":     category,
	}, &res, "run")
	if len(res.PageErrors) > 0 {
		t.Errorf("the page reported errors: %q", res.PageErrors)
	}

	// 1. Playback through the stream URL.
	switch {
	case res.Play == nil || res.Play.CurrentTime <= 1 || res.Play.Width != 160:
		t.Errorf("video: %+v, want currentTime > 1 s of a 160-pixel-wide clip", res.Play)
	case res.Play.ProgressAtStart >= 1:
		t.Errorf("the clip was complete (progress %v) before the <video> asked for it: the stream did not serve a download in progress", res.Play.ProgressAtStart)
	default:
		t.Logf("video (%d bytes at %d KiB/s): metadata after %.0f ms; torrent at %.0f %% when the <video> was made and %.0f %% when currentTime passed 1 s; first frame %.0f ms after src (pieces then %s), currentTime > 1 s after %.0f ms (events %v; stream requests %v); a fetch of the stream beside it had %v; the daemon's pieces over time %v",
			fi.Size(), clipRate>>10, res.Play.Meta, res.Play.ProgressAtStart*100, res.Play.ProgressAtOneSecond*100, res.Play.FirstFrame, res.Play.PiecesAtFirstFrame, res.Play.OneSecond, res.Play.Events, res.StreamRequests, res.Play.Fetched, res.Play.HaveTimeline)
	}
	// The clip is also whole on the leecher's disk, in the category's directory.
	leeched := filepath.Join(catDir, "clip.webm")
	testutil.WaitFor(t, 30*time.Second, "the clip to be complete in "+catDir, func() bool {
		return leecher.detail(t, clipHash).Progress >= 1
	})
	if got, err := os.ReadFile(leeched); err != nil || len(got) != int(fi.Size()) {
		t.Errorf("leeched clip: %v (%d bytes, want %d)", err, len(got), fi.Size())
	}

	// 2. The row rose live to 100 % and seeding, with the page never reloaded.
	if !res.NotReloaded {
		t.Error("the page was reloaded while the torrent downloaded")
	}
	var partial int
	seen100 := false
	for _, s := range res.Samples {
		if !strings.HasPrefix(s.Pct, "0") && !strings.HasPrefix(s.Pct, "100") {
			partial++
		}
		if strings.HasPrefix(s.Pct, "100") && s.State == "seeding" {
			seen100 = true
		}
	}
	if partial < 2 || !seen100 {
		t.Errorf("progress row samples %+v: want at least 2 partial values and 100 %% seeding", res.Samples)
	}
	for _, m := range res.Modes {
		if m != "● live" {
			t.Errorf("status bar showed %q while downloading, want only ● live", m)
		}
	}
	if len(res.Samples) > 0 {
		t.Logf("progress row: %d distinct values over %.1f s: %s … %s", len(res.Samples),
			float64(res.Samples[len(res.Samples)-1].Ms)/1000, res.Samples[0].Pct, res.Samples[len(res.Samples)-1].Pct)
	}

	// 3. The category filter and the file priority.
	if len(res.Filtered) != 1 || res.Filtered[0] != clipHash {
		t.Errorf("rows shown with the category filter: %v, want only %s", res.Filtered, clipHash)
	}
	testutil.WaitFor(t, 10*time.Second, "the daemon to report priority high for the clip", func() bool {
		d := leecher.detail(t, clipHash)
		return len(d.Files) == 1 && d.Files[0].Priority == "high"
	})
	if d := leecher.detail(t, clipHash); d.Category != category {
		t.Errorf("clip's category %q, want %q", d.Category, category)
	}
	t.Logf("steps: %s", strings.Join(res.Steps, " → "))
}
