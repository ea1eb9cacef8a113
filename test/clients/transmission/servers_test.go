package transmission

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/api"
	"github.com/gobit/gobit/internal/api/creds"
	rpc "github.com/gobit/gobit/internal/api/transmission"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// cmdTimeout bounds each client program run.
const cmdTimeout = 60 * time.Second

// server is an RPC server under test: gobit or transmission-daemon.
type server struct {
	kind       string // "gobit" or "transmission"
	host       string // 127.0.0.1:port
	dir        string // download directory
	user, pass string
}

func (s *server) url() string { return "http://" + s.host + "/transmission/rpc" }

// startGobit serves a fresh gobit session the way gobit serve mounts the
// RPC.
func startGobit(t *testing.T, user, pass string) *server {
	t.Helper()
	dir := t.TempDir()
	sess, err := session.New(session.Config{DownloadDir: dir, ListenAddr: "127.0.0.1", Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := rpc.New(sess, rpc.Options{Credentials: creds.Credentials{User: user, Password: pass}, Version: "test"})
	handler := api.NewHandler(sess, api.Options{Addr: ln.Addr().String(), Mounts: []api.Mount{
		{Pattern: "/transmission/rpc", Handler: h, OwnAuth: true},
		{Pattern: "/transmission/rpc/", Handler: h, OwnAuth: true},
	}})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		sess.Close()
	})
	return &server{kind: "gobit", host: ln.Addr().String(), dir: dir, user: user, pass: pass}
}

// syncBuffer collects a child's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startTransmission runs transmission-daemon with its own configuration
// directory: RPC on a free loopback port without host or address lists,
// no DHT, LPD, PEX or port forwarding, a temporary download directory.
func startTransmission(t *testing.T, user, pass string) *server {
	t.Helper()
	bin := testutil.NeedProgram(t, "transmission-daemon", "transmission-daemon")
	conf, dir := t.TempDir(), t.TempDir()
	rpcPort, err := testutil.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	peerPort, err := testutil.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]any{
		"rpc-enabled": true, "rpc-port": rpcPort, "rpc-bind-address": "127.0.0.1",
		"rpc-whitelist-enabled": false, "rpc-host-whitelist-enabled": false,
		"rpc-authentication-required": user != "", "rpc-username": user, "rpc-password": pass,
		"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false, "port-forwarding-enabled": false,
		"utp-enabled": false, "peer-port": peerPort, "bind-address-ipv4": "127.0.0.1",
		"download-dir": dir, "incomplete-dir-enabled": false, "blocklist-enabled": false,
		"start-added-torrents": true, "message-level": 1, "cache-size-mb": 4,
	}
	data, _ := json.Marshal(settings)
	if err := os.WriteFile(filepath.Join(conf, "settings.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cmd := exec.Command(bin, "-f", "-g", conf)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("transmission-daemon output:\n%s", out.String())
		}
	})
	s := &server{kind: "transmission", host: fmt.Sprintf("127.0.0.1:%d", rpcPort), dir: dir, user: user, pass: pass}
	testutil.WaitFor(t, 30*time.Second, "transmission-daemon's RPC", func() bool {
		select {
		case <-done:
			t.Fatalf("transmission-daemon exited:\n%s", out.String())
		default:
		}
		resp, err := http.Post(s.url(), "application/json", strings.NewReader(`{"method":"session-get"}`))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusConflict || resp.StatusCode == http.StatusUnauthorized
	})
	return s
}

// start starts a server of the given kind.
func start(t *testing.T, kind, user, pass string) *server {
	if kind == "gobit" {
		return startGobit(t, user, pass)
	}
	return startTransmission(t, user, pass)
}

var kinds = []string{"gobit", "transmission"}

// fixture is a two-file torrent whose data sits in src.
type fixture struct {
	src, name, hash, torrentFile string
	torrent                      []byte
}

func newFixture(t *testing.T, name string) *fixture {
	t.Helper()
	src := t.TempDir()
	root := filepath.Join(src, name)
	if err := os.MkdirAll(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	a := make([]byte, 300<<10)
	for i := range a {
		a[i] = byte(i * 7)
	}
	os.WriteFile(filepath.Join(root, "a.bin"), a, 0o644)
	os.WriteFile(filepath.Join(root, "sub", "b.txt"), bytes.Repeat([]byte("gobit\n"), 20000), 0o644)
	data, mi, err := metainfo.Create(metainfo.CreateOptions{Path: root, PieceLength: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	tf := filepath.Join(src, name+".torrent")
	if err := os.WriteFile(tf, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return &fixture{src: src, name: name, hash: mi.InfoHash.String(), torrentFile: tf, torrent: data}
}

// copyData copies the fixture's data into dir.
func (f *fixture) copyData(t *testing.T, dir string) {
	t.Helper()
	for _, rel := range []string{"a.bin", filepath.Join("sub", "b.txt")} {
		from, to := filepath.Join(f.src, f.name, rel), filepath.Join(dir, f.name, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		in, err := os.Open(from)
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(to)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(out, in)
		in.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// run runs a client program with a deadline and returns its output.
func run(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// size is the fixture's total size in bytes.
func (f *fixture) size() int64 {
	var n int64
	for _, rel := range []string{"a.bin", filepath.Join("sub", "b.txt")} {
		if fi, err := os.Stat(filepath.Join(f.src, f.name, rel)); err == nil {
			n += fi.Size()
		}
	}
	return n
}
