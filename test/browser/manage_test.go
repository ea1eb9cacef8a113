package browser

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/diskio"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
)

// manageResult is manage.js's RESULT line.
type manageResult struct {
	Steps      []string `json:"steps"`
	PageErrors []string `json:"pageErrors"`
	FreeText   string   `json:"freeText"` // the status bar's free space
	AddFree    string   `json:"addFree"`  // the add dialog's free space of the save path
	Pieces     struct {
		Pieces  int     `json:"pieces"`  // the torrent's pieces
		Have    int     `json:"have"`    // of them verified, by the API
		Filled  float64 `json:"filled"`  // fraction of the map's columns drawn as had
		Columns int     `json:"columns"` // the map's width in pixels
	} `json:"pieces"`
	CatRows   [][]string       `json:"catRows"`   // the category dialog's rows after create, rename, delete
	CatFilter []string         `json:"catFilter"` // rows shown with the category filter
	TagFilter []string         `json:"tagFilter"` // rows shown with the tag filter
	Queue     []map[string]int `json:"queue"`     // the API's queue positions after each button
	QueueCell string           `json:"queueCell"` // the # cell of the last moved row
	Play      struct {
		Status    int     `json:"status"`    // a fetch of the player's link, without the token
		Body      string  `json:"body"`      // its bytes, base64
		NoTicket  int     `json:"noTicket"`  // the stream without the ticket
		OtherFile int     `json:"otherFile"` // the ticket on another path
		Duration  float64 `json:"duration"`  // the <audio>'s duration, loaded through the ticket
		Link      string  `json:"link"`
	} `json:"play"`
}

// TestWebUIManage drives the web UI against real daemons (no answer is
// faked): it drops a multi-file .torrent on the page, unticks two files,
// names a save directory that already holds some of the data and starts
// it, then checks through the API that those files are skipped and that
// the pieces map draws the pieces the daemon verified; it creates,
// renames and deletes categories, assigns a category and tags to selected
// torrents and filters by them; it moves torrents in the queue with the
// toolbar's buttons and force-starts one, reading the positions back from
// the API; it checks the status bar's free space. Against a daemon with
// --api-token, a file's play button plays it through a stream ticket.
func TestWebUIManage(t *testing.T) {
	br := newBrowserRun(t, "two daemons")
	tmp := br.tmp
	shots := os.Getenv("GOBIT_SCREENSHOTS")
	if shots != "" {
		if abs, err := filepath.Abs(shots); err == nil {
			shots = abs
		}
	}

	// The album: five files, of which the save directory the test names in
	// the add dialog already holds two.
	const album = "Field Recordings 2026"
	src := filepath.Join(tmp, "src", album)
	partial := filepath.Join(tmp, "partial")
	files := []struct {
		name    string
		size    int
		present bool
	}{
		{"01 Harbour at dawn.flac", 180 << 10, true}, {"02 Rain on tin.flac", 150 << 10, false},
		{"artwork/back.jpg", 30 << 10, false}, {"artwork/cover.jpg", 40 << 10, true}, {"notes.txt", 2 << 10, false},
	}
	for _, f := range files {
		b := make([]byte, f.size)
		rand.Read(b)
		dirs := []string{src}
		if f.present {
			dirs = append(dirs, filepath.Join(partial, album))
		}
		for _, d := range dirs {
			p := filepath.Join(d, f.name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	torrent, mi, err := metainfo.Create(metainfo.CreateOptions{Path: src, PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	torrentPath := filepath.Join(tmp, album+".torrent")
	if err := os.WriteFile(torrentPath, torrent, 0o644); err != nil {
		t.Fatal(err)
	}

	downloads := filepath.Join(tmp, "downloads")
	dm := br.daemon(t, "gobit", downloads)
	queued := map[string]string{}
	for i, name := range []string{"queue-a", "queue-b", "queue-c"} {
		h := fmt.Sprintf("%040x", 0x9a0+i)
		queued[name] = h
		dm.addMagnet(t, "magnet:?xt=urn:btih:"+h+"&dn="+name, "paused=true")
	}

	// The token daemon seeds a one-second WAV file.
	wavDir := filepath.Join(tmp, "downloads2")
	if err := os.MkdirAll(wavDir, 0o755); err != nil {
		t.Fatal(err)
	}
	wav := makeWAV(8000, 1)
	wavPath := filepath.Join(wavDir, "tone.wav")
	if err := os.WriteFile(wavPath, wav, 0o644); err != nil {
		t.Fatal(err)
	}
	wavTorrent, wavMI, err := metainfo.Create(metainfo.CreateOptions{Path: wavPath, PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	const token = "manage-test-token"
	tokenDM := br.daemon(t, "gobit2", wavDir, "--api-token", token)
	req, _ := http.NewRequest("POST", tokenDM.base+"/api/v1/torrents", strings.NewReader(string(wavTorrent)))
	req.Header.Set("Content-Type", "application/x-bittorrent")
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := tokenDM.client.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("add the WAV torrent to the token daemon: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}

	cfg := map[string]any{
		"base":        dm.base,
		"torrentFile": torrentPath,
		"hash":        mi.InfoHash.String(),
		"files":       len(files),
		"untick":      []string{"notes.txt", "back.jpg"},
		"saveDir":     partial,
		"catDir":      filepath.Join(tmp, "cat-music"),
		"spareDir":    filepath.Join(tmp, "cat-spare"),
		"queued":      queued,
		"tokenBase":   tokenDM.base,
		"token":       token,
		"wavHash":     wavMI.InfoHash.String(),
		"screenshots": shots,
	}
	var res manageResult
	br.runResult(t, "manage.js", cfg, &res)
	if len(res.PageErrors) > 0 {
		t.Errorf("the page reported errors: %q", res.PageErrors)
	}
	hash := mi.InfoHash.String()

	// 1. The add with a file selection: the unticked files are skipped,
	// the torrent runs in the named directory.
	d := dm.detail(t, hash)
	if d.SaveDir != partial || d.State == session.StatePaused {
		t.Errorf("added torrent: save dir %q, state %s; want %q, started", d.SaveDir, d.State, partial)
	}
	want := map[string]string{"notes.txt": "skip", "artwork/back.jpg": "skip", "01 Harbour at dawn.flac": "normal",
		"02 Rain on tin.flac": "normal", "artwork/cover.jpg": "normal"}
	for _, f := range d.Files {
		rel := strings.TrimPrefix(f.Path, album+"/")
		if want[rel] != f.Priority {
			t.Errorf("file %q: priority %q, want %q", f.Path, f.Priority, want[rel])
		}
	}
	if len(d.Files) != len(files) {
		t.Errorf("the daemon lists %d files, want %d", len(d.Files), len(files))
	}
	if !strings.Contains(res.AddFree, "free on that disk") {
		t.Errorf("the add dialog's free space line: %q", res.AddFree)
	}

	// 2. The pieces map draws what the daemon verified: some, not all.
	p := res.Pieces
	if p.Pieces != d.Pieces || p.Have <= 0 || p.Have >= p.Pieces {
		t.Errorf("pieces: %d of %d had, want some of %d", p.Have, p.Pieces, d.Pieces)
	}
	if frac := float64(p.Have) / float64(max(p.Pieces, 1)); math.Abs(p.Filled-frac) > 0.12 {
		t.Errorf("pieces map: %.2f of %d columns drawn as had, the daemon has %.2f of the pieces", p.Filled, p.Columns, frac)
	}

	// 3. Categories: created, renamed, deleted; assigned; filtered.
	var cats []session.Category
	dm.getInto(t, "/api/v1/categories", &cats)
	if len(cats) != 1 || cats[0].Name != "music" || cats[0].SavePath != filepath.Join(tmp, "cat-music") {
		t.Errorf("categories after the dialog: %+v, want only music in %s", cats, filepath.Join(tmp, "cat-music"))
	}
	for _, h := range []string{hash, queued["queue-a"]} {
		if c := dm.detail(t, h).Category; c != "music" {
			t.Errorf("torrent %s: category %q, want music", h, c)
		}
	}
	if !sameSet(res.CatFilter, []string{hash, queued["queue-a"]}) {
		t.Errorf("rows with the category filter: %v", res.CatFilter)
	}
	// Tags: both got "field" and "lossless", the album lost "lossless".
	if tags := dm.detail(t, hash).Tags; !sameSet(tags, []string{"field"}) {
		t.Errorf("album tags %v, want [field]", tags)
	}
	if tags := dm.detail(t, queued["queue-a"]).Tags; !sameSet(tags, []string{"field", "lossless"}) {
		t.Errorf("queue-a tags %v, want field, lossless", tags)
	}
	if !sameSet(res.TagFilter, []string{queued["queue-a"]}) {
		t.Errorf("rows with the tag filter lossless: %v", res.TagFilter)
	}

	// 4. The queue: positions after top, down, up and bottom.
	wantQueue := []map[string]int{
		{"queue-c": 1, "queue-a": 2, "queue-b": 3, "album": 4}, // queue-c to the top
		{"queue-a": 1, "queue-c": 2, "queue-b": 3, "album": 4}, // queue-c down
		{"queue-a": 1, "queue-c": 2, "album": 3, "queue-b": 4}, // album up
		{"queue-c": 1, "album": 2, "queue-b": 3, "queue-a": 4}, // queue-a to the bottom
	}
	if len(res.Queue) != len(wantQueue) {
		t.Errorf("queue steps: %v", res.Queue)
	} else {
		for i := range wantQueue {
			for k, v := range wantQueue[i] {
				if res.Queue[i][k] != v {
					t.Errorf("queue step %d: %v, want %v", i+1, res.Queue[i], wantQueue[i])
					break
				}
			}
		}
	}
	if res.QueueCell != "4" {
		t.Errorf("the # cell of queue-a shows %q, want 4", res.QueueCell)
	}
	if qb := dm.detail(t, queued["queue-b"]); !qb.Forced || qb.State == session.StatePaused {
		t.Errorf("queue-b after force start: forced %v, state %s", qb.Forced, qb.State)
	}

	// 5. The status bar's free space: the file system's size as the page
	// writes sizes.
	_, total, err := diskio.FreeSpace(downloads)
	if err != nil {
		t.Fatal(err)
	}
	if wantTotal := " free of " + jsBytes(total); !strings.HasSuffix(res.FreeText, wantTotal) {
		t.Errorf("status bar free space %q, want it to end %q", res.FreeText, wantTotal)
	}

	// 6. Play with --api-token: the player's link carries a ticket that
	// streams the file without the token, and only that file.
	pl := res.Play
	if body, _ := base64.StdEncoding.DecodeString(pl.Body); pl.Status != http.StatusOK || string(body) != string(wav) {
		t.Errorf("the player's link without the token: %d, %d bytes (want 200, %d bytes)", pl.Status, len(body), len(wav))
	}
	if pl.NoTicket != http.StatusUnauthorized || pl.OtherFile != http.StatusUnauthorized {
		t.Errorf("without the ticket %d, with the ticket on another path %d; want 401 and 401", pl.NoTicket, pl.OtherFile)
	}
	if math.Abs(pl.Duration-1) > 0.05 {
		t.Errorf("the <audio> loaded through the ticket has duration %v, want 1 s", pl.Duration)
	}
	if !strings.Contains(pl.Link, "ticket=") {
		t.Errorf("player link %q has no ticket", pl.Link)
	}
	if log, _ := os.ReadFile(tokenDM.logf); strings.Contains(string(log), "ticket=") {
		t.Error("the token daemon's log holds a stream ticket")
	}
	t.Logf("steps: %s", strings.Join(res.Steps, " → "))
	t.Logf("status bar %q; pieces map %d of %d pieces had, %.0f %% of %d columns drawn", res.FreeText, p.Have, p.Pieces, p.Filled*100, p.Columns)
}

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		if m[s] == 0 {
			return false
		}
		m[s]--
	}
	return true
}

// jsBytes formats n as the web UI's bytes() does (dom.js).
func jsBytes(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatUint(n, 10) + " B"
	}
	prec := 0
	switch {
	case v < 10:
		prec = 2
	case v < 100:
		prec = 1
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + " " + units[i]
}

// makeWAV returns seconds of a 440 Hz tone as 8-bit mono PCM WAV.
func makeWAV(rate, seconds int) []byte {
	n := rate * seconds
	b := make([]byte, 44+n)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(rate)) // bytes per second
	binary.LittleEndian.PutUint16(b[32:], 1)            // block align
	binary.LittleEndian.PutUint16(b[34:], 8)            // bits per sample
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(n))
	for i := range n {
		b[44+i] = byte(128 + 60*math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
	}
	return b
}
