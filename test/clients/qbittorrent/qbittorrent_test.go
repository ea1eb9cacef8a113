// Package qbittorrent drives the npm library @ctrl/qbittorrent (what
// Flood and many *arr-adjacent tools build on) against a gobit daemon, and
// the same script against the real qbittorrent-nox, so that the test checks
// what the client expects rather than what gobit happens to do.
package qbittorrent

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/testutil"
)

// npmHint says how to install the library.
const npmHint = "cd test/clients/qbittorrent && npm ci"

// scriptTimeout bounds one run of client.mjs.
const scriptTimeout = 4 * time.Minute

// fixture is the torrents and directories client.mjs works with.
type fixture struct {
	BaseURL    string `json:"baseUrl"`
	Username   string `json:"username"`
	Password   string `json:"password"`
	Single     single `json:"single"`
	Multi      multi  `json:"multi"`
	Magnet     string `json:"magnet"`
	MagnetHash string `json:"magnetHash"`
	MoveDir    string `json:"moveDir"`
	CatDir     string `json:"catDir"`
	Tracker    string `json:"tracker"`
	// Gobit is set when the server is gobit, which refuses more than
	// qBittorrent does (a renamed path leaving the save path).
	Gobit bool `json:"gobit"`
}

type single struct {
	Torrent     string   `json:"torrent"` // base64
	Hash        string   `json:"hash"`
	DataDir     string   `json:"dataDir"`
	File        string   `json:"file"`
	Size        int64    `json:"size"`
	PieceLength int64    `json:"pieceLength"`
	Pieces      int      `json:"pieces"`
	PieceHashes []string `json:"pieceHashes"`
}

type multi struct {
	Torrent string   `json:"torrent"`
	Hash    string   `json:"hash"`
	Files   []string `json:"files"`
}

// newFixture makes the torrents: a single-file one whose data is in a
// directory of its own, a two-file one without data, and a magnet.
func newFixture(t *testing.T, dir string) fixture {
	t.Helper()
	tracker := "http://127.0.0.1:9/announce" // discard port: nothing answers
	var fx fixture
	fx.Tracker = tracker
	fx.Single.DataDir = filepath.Join(dir, "seed")
	fx.Single.File = "payload.bin"
	fx.Single.Size = 300000
	if err := os.MkdirAll(fx.Single.DataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, fx.Single.Size)
	rand.Read(data)
	path := filepath.Join(fx.Single.DataDir, fx.Single.File)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	raw, mi, err := metainfo.Create(metainfo.CreateOptions{Path: path, PieceLength: 32 << 10,
		Trackers: [][]string{{tracker}}, Comment: "gobit test", CreatedBy: "gobit tests", CreationDate: time.Now().Unix()})
	if err != nil {
		t.Fatal(err)
	}
	fx.Single.Torrent, fx.Single.Hash = base64.StdEncoding.EncodeToString(raw), mi.InfoHash.String()
	fx.Single.PieceLength, fx.Single.Pieces = mi.Info.PieceLength, mi.Info.NumPieces()
	for i := range fx.Single.Pieces {
		h := mi.Info.PieceHash(i)
		fx.Single.PieceHashes = append(fx.Single.PieceHashes, hex.EncodeToString(h[:]))
	}

	src := filepath.Join(dir, "src", "album")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, n := range map[string]int{"a.flac": 70000, "b.txt": 1000} {
		b := make([]byte, n)
		rand.Read(b)
		if err := os.WriteFile(filepath.Join(src, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, mi, err = metainfo.Create(metainfo.CreateOptions{Path: src, PieceLength: 32 << 10, Trackers: [][]string{{tracker}}})
	if err != nil {
		t.Fatal(err)
	}
	fx.Multi.Torrent, fx.Multi.Hash = base64.StdEncoding.EncodeToString(raw), mi.InfoHash.String()
	fx.Multi.Files = []string{"album/a.flac", "album/b.txt"}
	if err := os.RemoveAll(filepath.Join(dir, "src")); err != nil {
		t.Fatal(err)
	}

	var h [20]byte
	rand.Read(h[:])
	fx.MagnetHash = hex.EncodeToString(h[:])
	fx.Magnet = "magnet:?xt=urn:btih:" + fx.MagnetHash + "&dn=nothing"
	fx.MoveDir = filepath.Join(dir, "moved")
	fx.CatDir = filepath.Join(dir, "cat")
	for _, d := range []string{fx.MoveDir, fx.CatDir, fx.CatDir + "2"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return fx
}

// needClient returns node and the directory with the installed library.
func needClient(t *testing.T) (node, here string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a daemon and node; skipped with -short")
	}
	node = testutil.NeedProgram(t, "node", "nodejs")
	here = filepath.Join(testutil.ModuleRoot(t), "test", "clients", "qbittorrent")
	if _, err := os.Stat(filepath.Join(here, "node_modules", "@ctrl", "qbittorrent", "package.json")); err != nil {
		if testutil.InCI() {
			t.Fatalf("@ctrl/qbittorrent is not installed (%s); required when CI=true", npmHint)
		}
		t.Skipf("@ctrl/qbittorrent is not installed: %s", npmHint)
	}
	return node, here
}

// runClient runs client.mjs with fx and fails the test on a failed step.
func runClient(t *testing.T, node, here string, fx fixture) {
	t.Helper()
	cfg, err := json.Marshal(fx)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(here, "client.mjs"), cfgPath)
	cmd.Dir = here
	out, err := cmd.CombinedOutput()
	steps := 0
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "OK ") {
			steps++
		}
	}
	t.Logf("client.mjs: %d steps passed\n%s", steps, out)
	if err != nil || !strings.Contains(string(out), "\nDONE") {
		t.Fatalf("client.mjs failed: %v", err)
	}
}

// waitHTTP waits until url answers at all.
func waitHTTP(t *testing.T, url string, exited <-chan struct{}, logf string) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	ok := testutil.Eventually(30*time.Second, func() bool {
		select {
		case <-exited:
			return true
		default:
		}
		resp, err := c.Get(url)
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return true
	})
	select {
	case <-exited:
		b, _ := os.ReadFile(logf)
		t.Fatalf("the server exited at startup:\n%s", b)
	default:
	}
	if !ok {
		b, _ := os.ReadFile(logf)
		t.Fatalf("the server did not answer %s in 30 s:\n%s", url, b)
	}
}

// start runs cmd until the test ends.
func start(t *testing.T, cmd *exec.Cmd, logf string) <-chan struct{} {
	t.Helper()
	out, err := os.Create(logf)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); out.Close(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("%s (pid %d) still running 10 s after SIGKILL", cmd.Path, cmd.Process.Pid)
		}
	})
	return exited
}

// startGobit starts "gobit serve" with the qBittorrent API's credentials
// admin/s3cret and returns its base URL.
func startGobit(t *testing.T, bin, dir string, extra ...string) string {
	t.Helper()
	port, err := testutil.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	downloads, data := filepath.Join(dir, "downloads"), filepath.Join(dir, "data")
	for _, d := range []string{downloads, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "serve", "--addr", addr, "--port", "0", "--listen-host", "127.0.0.1",
		"--no-lsd", "--no-dht", "--download-dir", downloads, "--data-dir", data, "--log-level", "debug",
		"--api-user", "admin", "--api-password", "s3cret")
	cmd.Args = append(cmd.Args, extra...)
	cmd.Env = cleanEnv("GOBIT_")
	logf := filepath.Join(dir, "gobit.log")
	exited := start(t, cmd, logf)
	waitHTTP(t, "http://"+addr+"/api/v2/app/version", exited, logf)
	return "http://" + addr
}

func TestCtrlQBittorrentAgainstGobit(t *testing.T) {
	node, here := needClient(t)
	curl := testutil.NeedProgram(t, "curl", "curl")
	dir := t.TempDir()
	bin := testutil.BuildGobit(t, dir)
	fx := newFixture(t, dir)
	base := startGobit(t, bin, filepath.Join(dir, "d1"))
	curlChecks(t, curl, base, dir)
	fx.BaseURL, fx.Username, fx.Password = base, "admin", "s3cret"
	fx.Gobit = true
	runClient(t, node, here, fx)

	// With --qbt-bypass-local-auth, loopback clients need no login.
	bypass := startGobit(t, bin, filepath.Join(dir, "d2"), "--qbt-bypass-local-auth")
	if code, body := curlDo(t, curl, "", bypass+"/api/v2/app/version"); code != "200" || body != "v4.6.7" {
		t.Fatalf("bypass: %s %q, want 200 v4.6.7", code, body)
	}
}

// curlDo runs curl with args and returns the status code and body.
func curlDo(t *testing.T, curl, jar string, args ...string) (code, body string) {
	t.Helper()
	all := []string{"--silent", "--show-error", "--max-time", "10", "--noproxy", "*", "--write-out", "\n%{http_code}"}
	if jar != "" {
		all = append(all, "--cookie", jar, "--cookie-jar", jar)
	}
	out, err := exec.Command(curl, append(all, args...)...).Output()
	if err != nil {
		t.Fatalf("curl %v: %v", args, err)
	}
	s := string(out)
	i := strings.LastIndexByte(s, '\n')
	return s[i+1:], s[:i]
}

// curlChecks checks the login handshake as curl sees it through the
// daemon's guard.
func curlChecks(t *testing.T, curl, base, dir string) {
	t.Helper()
	api := base + "/api/v2/"
	if code, body := curlDo(t, curl, "", api+"app/version"); code != "403" || body != "Forbidden" {
		t.Errorf("without login: %s %q, want 403 Forbidden", code, body)
	}
	if code, body := curlDo(t, curl, "", api+"auth/login", "--data", "username=admin&password=nope"); code != "200" || body != "Fails." {
		t.Errorf("bad login: %s %q, want 200 Fails.", code, body)
	}
	jar := filepath.Join(dir, "cookies.txt")
	hdrs := filepath.Join(dir, "headers.txt")
	if code, body := curlDo(t, curl, jar, api+"auth/login", "--dump-header", hdrs, "--data", "username=admin&password=s3cret"); code != "200" || body != "Ok." {
		t.Fatalf("login: %s %q, want 200 Ok.", code, body)
	}
	h, _ := os.ReadFile(hdrs)
	var cookie string
	for _, line := range strings.Split(string(h), "\n") {
		if strings.HasPrefix(strings.ToLower(line), "set-cookie: sid=") {
			cookie = line
		}
	}
	if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") {
		t.Errorf("Set-Cookie %q: want SID, HttpOnly, SameSite=Strict", cookie)
	}
	if code, body := curlDo(t, curl, jar, api+"app/version"); code != "200" || body != "v4.6.7" {
		t.Errorf("with the cookie: %s %q", code, body)
	}
	// A web page elsewhere cannot drive it, logged in or not.
	if code, _ := curlDo(t, curl, jar, api+"torrents/pause", "--header", "Origin: https://evil.example", "--data", "hashes=all"); code != "403" {
		t.Errorf("cross-site POST: %s, want 403", code)
	}
	if code, _ := curlDo(t, curl, jar, api+"auth/logout", "--data", ""); code != "200" {
		t.Errorf("logout: %s", code)
	}
	if code, _ := curlDo(t, curl, jar, api+"app/version"); code != "403" {
		t.Errorf("after logout: %s, want 403", code)
	}
}

// TestCtrlQBittorrentAgainstQBittorrentNox runs the same script against
// the real qBittorrent, with the Web UI's local authentication bypassed
// and DHT, PeX, LSD and UPnP off.
func TestCtrlQBittorrentAgainstQBittorrentNox(t *testing.T) {
	node, here := needClient(t)
	qbt := testutil.NeedProgram(t, "qbittorrent-nox", "qbittorrent-nox")
	dir := t.TempDir()
	fx := newFixture(t, dir)
	webPort, err := testutil.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	peerPort, err := testutil.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	profile := filepath.Join(dir, "profile")
	conf := filepath.Join(profile, "qBittorrent", "config")
	if err := os.MkdirAll(conf, 0o700); err != nil {
		t.Fatal(err)
	}
	downloads := filepath.Join(dir, "downloads")
	ini := fmt.Sprintf(`[LegalNotice]
Accepted=true

[BitTorrent]
Session\DHTEnabled=false
Session\PeXEnabled=false
Session\LSDEnabled=false
Session\Port=%d
Session\Interface=lo
Session\InterfaceName=lo
Session\DefaultSavePath=%s

[Preferences]
WebUI\LocalHostAuth=false
WebUI\Port=%d
WebUI\Address=127.0.0.1
WebUI\UPnP=false
Connection\UPnP=false
General\Locale=en
`, peerPort, downloads, webPort)
	if err := os.WriteFile(filepath.Join(conf, "qBittorrent.conf"), []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(qbt, "--profile="+profile, "--webui-port="+strconv.Itoa(webPort))
	cmd.Env = cleanEnv("QBT_")
	logf := filepath.Join(dir, "qbittorrent.log")
	exited := start(t, cmd, logf)
	base := "http://127.0.0.1:" + strconv.Itoa(webPort)
	waitHTTP(t, base+"/api/v2/app/version", exited, logf)
	fx.BaseURL, fx.Username, fx.Password = base, "admin", "unused"
	runClient(t, node, here, fx)
}

// cleanEnv is the environment without the variables starting with prefix.
func cleanEnv(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}
