package browser

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
)

// uiBulk is how many torrents the list must stay fast with.
const uiBulk = 2000

// uiResult is ui.js's RESULT line.
type uiResult struct {
	Steps       []string `json:"steps"`          // what the script did, in order
	PageErrors  []string `json:"pageErrors"`     // uncaught errors and console errors of the page
	Escaped     bool     `json:"escaped"`        // the hostile name showed as text
	Bulk        int      `json:"bulk"`           // torrents listed after the bulk add
	FirstRender float64  `json:"firstRender"`    // ms from navigation to the full list drawn
	Rerender    float64  `json:"rerender"`       // ms per filter+sort+draw of the whole list
	SortClick   float64  `json:"sortClick"`      // ms from a header click to the re-sorted list drawn
	ScrollAvg   float64  `json:"scrollAvg"`      // ms per frame while scrolling the list
	ScrollMax   float64  `json:"scrollMax"`      // worst frame
	ScrollRows  int      `json:"scrollRows"`     // row elements in the DOM while scrolling
	LastShown   bool     `json:"lastShown"`      // the last torrent was drawn at the bottom
	TokenAsked  bool     `json:"tokenAsked"`     // the page asked for the token
	TokenListed bool     `json:"tokenListed"`    // and listed the torrents once given it
	BulkAdd     float64  `json:"bulkAddSeconds"` // seconds to add the 2,000 through the API
	Events      bool     `json:"eventsApplied"`  // a stream's snapshot, progress and removal were applied
	CategorySet bool     `json:"categorySet"`    // the category dialog sent its PATCH
	PrioritySet bool     `json:"prioritySet"`    // a file's priority select sent its PATCH
	PlayLink    bool     `json:"playLink"`       // files have a link to their stream
	AddSelect   bool     `json:"addSelection"`   // the add dialog sent a file selection, category and tags
}

// TestWebUI drives the web UI in headless chromium against a real daemon:
// it adds a torrent through the add dialog's file upload (and a magnet),
// sees it seed, opens the detail pane and its tabs, pauses and resumes it
// with the keyboard and the toolbar, sets a session limit, removes it
// through the confirm dialog, drops its .torrent on the page to add it
// again paused, moves it, then loads 2,000 torrents and times the list's first render and scroll.
// A daemon with --api-token must ask for the token and then work.
// With GOBIT_SCREENSHOTS=dir it saves screenshots of the main views there.
func TestWebUI(t *testing.T) {
	br := newBrowserRun(t, "two daemons")
	tmp := br.tmp
	shots := os.Getenv("GOBIT_SCREENSHOTS")
	if shots != "" {
		if abs, err := filepath.Abs(shots); err == nil {
			shots = abs
		}
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	downloads := filepath.Join(tmp, "downloads")
	// The uploaded torrent: a directory of a few files, already complete
	// in downloads, so it seeds as soon as it is checked.
	album := filepath.Join(downloads, "Field Recordings 2026")
	files := map[string]int{
		"01 Harbour at dawn.flac": 180 << 10, "02 Rain on tin.flac": 150 << 10,
		"artwork/cover.jpg": 40 << 10, "artwork/back.jpg": 30 << 10, "notes.txt": 2 << 10,
	}
	for name, size := range files {
		p := filepath.Join(album, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, size)
		rand.Read(b)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	torrent, mi, err := metainfo.Create(metainfo.CreateOptions{Path: album, PieceLength: 16 << 10,
		Trackers: [][]string{{"http://127.0.0.1:1/announce"}}})
	if err != nil {
		t.Fatal(err)
	}
	torrentPath := filepath.Join(tmp, "Field Recordings 2026.torrent")
	if err := os.WriteFile(torrentPath, torrent, 0o644); err != nil {
		t.Fatal(err)
	}

	// The bulk torrents: each names a small file that is not on disk.
	bulkDir := filepath.Join(tmp, "bulk")
	srcDir := filepath.Join(tmp, "bulk-src")
	for _, d := range []string{bulkDir, srcDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := range uiBulk {
		src := filepath.Join(srcDir, fmt.Sprintf("bulk-%04d-%s.bin", i, []string{"ubuntu", "debian", "fedora", "arch", "alpine"}[i%5]))
		b := make([]byte, 1024+i)
		rand.Read(b)
		if err := os.WriteFile(src, b, 0o644); err != nil {
			t.Fatal(err)
		}
		tb, _, err := metainfo.Create(metainfo.CreateOptions{Path: src, PieceLength: 16 << 10})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bulkDir, fmt.Sprintf("%04d.torrent", i)), tb, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	dm := br.daemon(t, "gobit", downloads)
	// A few torrents for the list to show beside the uploaded one: magnets
	// (no peers here, so they stay fetching metadata) and paused ones.
	for i, name := range []string{"debian-13.2.0-amd64-netinst.iso", "Big Buck Bunny (2008) 1080p", "archlinux-2026.12.01-x86_64.iso", "Sintel.2010.4k"} {
		paused := "false"
		if i%2 == 1 {
			paused = "true"
		}
		dm.addMagnet(t, fmt.Sprintf("magnet:?xt=urn:btih:%040x&dn=%s", i+0xabc, strings.ReplaceAll(name, " ", "+")), "paused="+paused)
	}
	tokenDM := br.daemon(t, "gobit2", filepath.Join(tmp, "downloads2"), "--api-token", "ui-test-token")

	hostile := `<img src=x onerror="window.__xss=1">`
	cfg := map[string]any{
		"base":        dm.base,
		"tokenBase":   tokenDM.base,
		"token":       "ui-test-token",
		"torrentFile": torrentPath,
		"hash":        mi.InfoHash.String(),
		"name":        "Field Recordings 2026",
		"files":       len(files),
		"magnet":      fmt.Sprintf("magnet:?xt=urn:btih:%040x&dn=%s", 0xe5c, hostile),
		"magnetHash":  fmt.Sprintf("%040x", 0xe5c),
		"hostile":     hostile,
		"bulkDir":     bulkDir,
		"moveDir":     filepath.Join(tmp, "moved"),
		"bulk":        uiBulk,
		"screenshots": shots,
	}
	var res uiResult
	br.runResult(t, "ui.js", cfg, &res)

	if len(res.PageErrors) > 0 {
		t.Errorf("the page reported errors: %q", res.PageErrors)
	}
	if !res.Escaped {
		t.Error("the hostile torrent name was not shown as plain text")
	}
	// The uploaded torrent was removed without its data, then dropped on
	// the page and added paused.
	var list []session.Status
	dm.getInto(t, "/api/v1/torrents", &list)
	readded := false
	for _, s := range list {
		if s.InfoHash == mi.InfoHash.String() {
			readded = s.State == session.StatePaused
		}
	}
	if !readded {
		t.Error("the torrent dropped on the page is not listed paused")
	}
	// Removing kept the data, and the move in the UI took it to moveDir.
	moved := filepath.Join(tmp, "moved", "Field Recordings 2026", "notes.txt")
	if _, err := os.Stat(moved); err != nil {
		t.Errorf("after the move in the UI: %v", err)
	}
	if want := uiBulk + 6; len(list) != want || res.Bulk != want {
		t.Errorf("after the bulk add the daemon lists %d torrents and the page %d, want %d", len(list), res.Bulk, want)
	}
	if res.ScrollRows <= 0 || res.ScrollRows > 120 {
		t.Errorf("%d row elements in the DOM for %d torrents: the list is not virtualised", res.ScrollRows, res.Bulk)
	}
	if !res.LastShown {
		t.Error("scrolling to the bottom did not draw the last torrent")
	}
	if !res.Events {
		t.Error("the page did not apply the events of GET /api/v1/events")
	}
	if !res.CategorySet {
		t.Error("the category dialog did not send PATCH {\"category\": \"linux\"}")
	}
	if !res.PrioritySet || !res.PlayLink {
		t.Errorf("files tab: priority sent %v, play link %v", res.PrioritySet, res.PlayLink)
	}
	if !res.AddSelect {
		t.Error("the add dialog did not send the file selection, category and tags")
	}
	if !res.TokenAsked || !res.TokenListed {
		t.Errorf("with --api-token: asked for the token %v, listed after it %v", res.TokenAsked, res.TokenListed)
	}
	// Wide margins: a 2-core machine under load must still pass, and a
	// list that draws every row (seconds for 2,000) must not.
	if res.FirstRender > 15000 || res.ScrollAvg > 250 {
		t.Errorf("list of %d: first render %.0f ms, scroll %.1f ms per frame: too slow", res.Bulk, res.FirstRender, res.ScrollAvg)
	}
	t.Logf("steps: %s", strings.Join(res.Steps, " → "))
	t.Logf("%d torrents added through the API in %.1f s (4 uploads of 100 at a time)", uiBulk, res.BulkAdd)
	t.Logf("%d torrents: first render %.0f ms after navigation; filter+sort+draw %.1f ms; sort click %.1f ms; scroll %.1f ms/frame avg, %.1f ms worst; %d row elements",
		res.Bulk, res.FirstRender, res.Rerender, res.SortClick, res.ScrollAvg, res.ScrollMax, res.ScrollRows)
	if shots != "" {
		ents, _ := os.ReadDir(shots)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Logf("screenshots in %s: %s", shots, strings.Join(names, ", "))
	}
}
