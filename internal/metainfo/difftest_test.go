package metainfo

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// diffAllowed lists the known disagreements with libtorrent, by corpus tag.
// Each is a place where gobit deliberately differs; anything else is a bug.
var diffAllowed = map[string]string{
	// gobit keeps whole pieces in memory while they download and verify;
	// libtorrent (which accepts up to 2^30-1) does not. A piece length
	// above MaxPieceLength (64 MiB) is refused so that one torrent cannot
	// make gobit allocate gigabytes per piece.
	"big-piece": "piece length above 64 MiB refused (whole pieces are buffered in memory)",
	// gobit does not support BitTorrent v2 yet; libtorrent opens v2-only
	// torrents (with an all-zero v1 hash). gobit says so in its error.
	"v2-only": "BitTorrent v2-only torrents are not supported",
	// gobit replaces '/' and '\' inside a name with '_' (so "/" becomes
	// "_" and "../" becomes ".._"); libtorrent drops them and then refuses
	// a single-file name that is left empty, "." or "..". gobit is the more
	// liberal one here and the result stays inside the save directory.
	"sep-name": "a single-file name that is only separators and dots is repaired by gobit, refused by libtorrent",
}

// ltAnswer is what testdata/lt_torrent_info.py reports for one torrent.
type ltAnswer struct {
	ID    string    `json:"id"`
	OK    bool      `json:"ok"`
	Error string    `json:"error"`
	Hash  string    `json:"hash"`
	Files int       `json:"files"`
	Size  int64     `json:"size"`
	Paths []*string `json:"paths"`
}

// libtorrentVerdicts runs one python process over all cases and returns
// libtorrent's answer for each, in order.
func libtorrentVerdicts(t *testing.T, cases []corpusCase) []ltAnswer {
	t.Helper()
	py := testutil.NeedPythonModule(t, "libtorrent", "python3-libtorrent")
	cmd := exec.Command(py, filepath.Join("testdata", "lt_torrent_info.py"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	go func() {
		w := bufio.NewWriter(stdin)
		enc := json.NewEncoder(w)
		for _, c := range cases {
			if enc.Encode(map[string]string{"id": c.name, "data": base64.StdEncoding.EncodeToString(c.data)}) != nil {
				break
			}
		}
		w.Flush()
		stdin.Close()
	}()
	var out []ltAnswer
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var a ltAnswer
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("bad line from the python helper: %v: %.200s", err, sc.Text())
		}
		out = append(out, a)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("python helper: %v\n%s", err, stderr.String())
	}
	if len(out) != len(cases) {
		t.Fatalf("python helper answered %d of %d cases\n%s", len(out), len(cases), stderr.String())
	}
	for i := range out {
		if out[i].ID != cases[i].name {
			t.Fatalf("answer %d is for %q, want %q", i, out[i].ID, cases[i].name)
		}
	}
	return out
}

// TestDifferentialLibtorrent parses every corpus torrent with gobit and
// with libtorrent (lt.torrent_info) and compares: accepted or refused, and
// when both accept, the v1 info hash, the number of files and the total
// size. Disagreements must be allowed by diffAllowed.
func TestDifferentialLibtorrent(t *testing.T) {
	cases := append(namedCorpus(t), genCorpus(1, 600)...)
	answers := libtorrentVerdicts(t, cases)
	agree, pathsSame, bothOK := 0, 0, 0
	var allowed []string
	for i, c := range cases {
		lt := answers[i]
		mi, err := Parse(c.data)
		var diff string
		switch {
		case err == nil && !lt.OK:
			diff = fmt.Sprintf("gobit accepts, libtorrent refuses: %s", lt.Error)
		case err != nil && lt.OK:
			diff = fmt.Sprintf("gobit refuses (%v), libtorrent accepts", err)
		case err == nil:
			bothOK++
			es := mi.Info.FileEntries()
			switch {
			case mi.InfoHash.String() != lt.Hash:
				diff = fmt.Sprintf("info hash %s, libtorrent %s", mi.InfoHash, lt.Hash)
			case len(es) != lt.Files:
				diff = fmt.Sprintf("%d files, libtorrent %d", len(es), lt.Files)
			case mi.Info.TotalLength() != lt.Size:
				diff = fmt.Sprintf("total size %d, libtorrent %d", mi.Info.TotalLength(), lt.Size)
			}
			if diff == "" && samePaths(es, lt.Paths) {
				pathsSame++
			}
		}
		if diff == "" {
			agree++
			continue
		}
		reason := ""
		for _, tag := range c.tags {
			if r, ok := diffAllowed[tag]; ok {
				reason = r
			}
		}
		if reason == "" {
			t.Errorf("%s: %s", c.name, diff)
			continue
		}
		allowed = append(allowed, fmt.Sprintf("%s: %s (allowed: %s)", c.name, diff, reason))
	}
	t.Logf("agreement %d/%d; allowed disagreements %d:\n  %s", agree, len(cases), len(allowed), strings.Join(allowed, "\n  "))
	t.Logf("identical file paths in %d of %d torrents both accept (paths are not compared: gobit repairs components its own way)", pathsSame, bothOK)
	fmt.Printf("agreement %d/%d\n", agree, len(cases))
}

// samePaths reports whether gobit's layout has libtorrent's paths.
func samePaths(es []FileEntry, lt []*string) bool {
	if len(es) != len(lt) {
		return false
	}
	for i, e := range es {
		if lt[i] == nil || filepath.ToSlash(e.Path) != *lt[i] {
			return false
		}
	}
	return true
}

// TestCorpusDeterministic checks that the generated corpus is the same on
// every run, so that a disagreement can be reproduced by name.
func TestCorpusDeterministic(t *testing.T) {
	a, b := genCorpus(1, 50), genCorpus(1, 50)
	for i := range a {
		if a[i].name != b[i].name || !slices.Equal(a[i].data, b[i].data) {
			t.Fatalf("case %d differs between runs", i)
		}
	}
}
