package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gobit/gobit/internal/api"
	"github.com/gobit/gobit/internal/dht"
	"github.com/gobit/gobit/internal/session"
)

// fakeDaemon is an in-memory api.Backend.
type fakeDaemon struct {
	mu      sync.Mutex
	order   []string
	byHash  map[string]*session.Status
	adds    []session.AddRequest
	removed map[string]bool
}

func newFakeDaemon() *fakeDaemon {
	return &fakeDaemon{byHash: map[string]*session.Status{}, removed: map[string]bool{}}
}

func (f *fakeDaemon) Add(_ context.Context, req session.AddRequest) (session.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.adds = append(f.adds, req)
	var hash, name string
	switch {
	case strings.HasPrefix(req.URI, "magnet:?xt=urn:btih:"):
		hash = strings.ToLower(strings.TrimPrefix(req.URI, "magnet:?xt=urn:btih:"))[:40]
		name = "from-magnet"
	case len(req.Torrent) > 0:
		sum := sha1.Sum(req.Torrent)
		hash, name = hex.EncodeToString(sum[:]), "from-file"
	default:
		return session.Status{}, fmt.Errorf("cannot add %q: %w", req.URI, session.ErrInvalid)
	}
	if _, ok := f.byHash[hash]; ok {
		return session.Status{}, fmt.Errorf("%s: %w", hash, session.ErrExists)
	}
	st := &session.Status{InfoHash: hash, Name: name, State: session.StateDownloading,
		Progress: 0.5, TotalSize: 2 << 20, DownloadRate: 1536 << 10, UploadRate: 2048, Peers: 7, ETASeconds: 125}
	f.byHash[hash] = st
	f.order = append(f.order, hash)
	return *st, nil
}

func (f *fakeDaemon) List() []session.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []session.Status
	for _, h := range f.order {
		out = append(out, *f.byHash[h])
	}
	return out
}

func (f *fakeDaemon) Get(h string) (session.Detail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.byHash[h]
	if !ok {
		return session.Detail{}, fmt.Errorf("%s: %w", h, session.ErrNotFound)
	}
	return session.Detail{Status: *st}, nil
}

func (f *fakeDaemon) set(h string, s session.State) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.byHash[h]
	if !ok {
		return fmt.Errorf("%s: %w", h, session.ErrNotFound)
	}
	st.State = s
	return nil
}

func (f *fakeDaemon) Pause(h string) error  { return f.set(h, session.StatePaused) }
func (f *fakeDaemon) Resume(h string) error { return f.set(h, session.StateDownloading) }

func (f *fakeDaemon) Remove(h string, deleteData bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.byHash[h]; !ok {
		return fmt.Errorf("%s: %w", h, session.ErrNotFound)
	}
	delete(f.byHash, h)
	for i, x := range f.order {
		if x == h {
			f.order = append(f.order[:i], f.order[i+1:]...)
			break
		}
	}
	f.removed[h] = deleteData
	return nil
}

func startFakeDaemon(t *testing.T, token string) (*fakeDaemon, string) {
	t.Helper()
	fd := newFakeDaemon()
	srv := httptest.NewServer(api.NewHandler(fd, api.Options{Token: token}))
	t.Cleanup(srv.Close)
	return fd, strings.TrimPrefix(srv.URL, "http://")
}

func TestRemoteCommands(t *testing.T) {
	clearEnv(t)
	fd, addr := startFakeDaemon(t, "tok")
	// Address from the flag, token from the environment.
	t.Setenv("GOBIT_API_TOKEN", "tok")
	const hashA = "aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111"
	const hashB = "aaaa2222aaaa2222aaaa2222aaaa2222aaaa2222"

	out, errOut, code := gobit(t, "ls", "--addr", addr)
	if code != 0 || strings.TrimSpace(out) != "no torrents" {
		t.Fatalf("empty ls: exit %d out %q err %q", code, out, errOut)
	}

	torrentPath, torrentBytes, _ := makeTorrent(t, false)
	out, errOut, code = gobit(t, "add", "--addr", addr, "magnet:?xt=urn:btih:"+hashA, torrentPath, "magnet:?xt=urn:btih:"+strings.ToUpper(hashB), "-o", "rel/dir")
	if code != 0 {
		t.Fatalf("add: exit %d: %s", code, errOut)
	}
	mustContain(t, "add output", out, "added "+hashA+" from-magnet", "from-file")
	if len(fd.adds) != 3 || string(fd.adds[1].Torrent) != string(torrentBytes) || fd.adds[1].URI != "" {
		t.Fatalf("daemon got %+v", fd.adds)
	}
	if fd.adds[0].URI != "magnet:?xt=urn:btih:"+hashA {
		t.Errorf("magnet sent as %q", fd.adds[0].URI)
	}
	if d := fd.adds[0].DownloadDir; !strings.HasSuffix(d, "rel/dir") || !strings.HasPrefix(d, "/") {
		t.Errorf("download dir sent as %q, want an absolute path", d)
	}

	// Adding again: the daemon's 409 message reaches the user.
	_, errOut, code = gobit(t, "add", "--addr", addr, "magnet:?xt=urn:btih:"+hashA)
	if code != exitFailure || !strings.Contains(errOut, "already added") {
		t.Errorf("duplicate add: exit %d stderr %q", code, errOut)
	}

	out, _, code = gobit(t, "ls", "--addr", addr)
	if code != 0 {
		t.Fatalf("ls exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("ls printed %d lines, want header + 3:\n%s", len(lines), out)
	}
	mustContain(t, "ls header", lines[0], "HASH", "NAME", "STATE", "DONE", "DOWN", "UP", "PEERS", "ETA")
	mustContain(t, "ls row", lines[1], "aaaa1111 ", "from-magnet", "downloading", "50.0%", "1.5 MiB/s", "2.0 KiB/s", " 7 ", "2m05s")
	if strings.Contains(lines[1], hashA) {
		t.Error("ls shows the full hash; want the short one")
	}

	out, _, _ = gobit(t, "ls", "--addr", addr, "--json")
	var l []session.Status
	if err := json.Unmarshal([]byte(out), &l); err != nil || len(l) != 3 {
		t.Fatalf("ls --json: %v: %s", err, out)
	}

	// pause and resume by full hash, rm by unique prefix.
	if out, errOut, code = gobit(t, "pause", "--addr", addr, hashA); code != 0 || !strings.Contains(out, "paused "+hashA) {
		t.Fatalf("pause: %d %q %q", code, out, errOut)
	}
	if fd.byHash[hashA].State != session.StatePaused {
		t.Error("daemon not paused")
	}
	if _, _, code = gobit(t, "resume", "--addr", addr, strings.ToUpper(hashA)); code != 0 || fd.byHash[hashA].State != session.StateDownloading {
		t.Errorf("resume: exit %d, state %s", code, fd.byHash[hashA].State)
	}
	_, errOut, code = gobit(t, "rm", "--addr", addr, "aaaa")
	if code != exitFailure || !strings.Contains(errOut, "matches 2 torrents") {
		t.Errorf("ambiguous prefix: exit %d stderr %q", code, errOut)
	}
	if out, errOut, code = gobit(t, "rm", "--addr", addr, "--delete-data", "aaaa2"); code != 0 || !strings.Contains(out, "removed "+hashB) {
		t.Fatalf("rm prefix: %d %q %q", code, out, errOut)
	}
	if del, ok := fd.removed[hashB]; !ok || !del {
		t.Errorf("rm --delete-data: removed=%v deleteData=%v", ok, del)
	}
	if _, _, code = gobit(t, "rm", "--addr", addr, hashA); code != 0 || fd.removed[hashA] {
		t.Errorf("rm without --delete-data: exit %d, deleteData %v", code, fd.removed[hashA])
	}

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"rm unknown", []string{"rm", "--addr", addr, strings.Repeat("b", 40)}, exitFailure, "not found"},
		{"rm unknown prefix", []string{"rm", "--addr", addr, "bbbbbb"}, exitFailure, "not found"},
		{"rm not a hash", []string{"rm", "--addr", addr, "xyz!"}, exitUsage, "not an info hash"},
		{"pause unknown", []string{"pause", "--addr", addr, strings.Repeat("c", 40)}, exitFailure, "not found"},
		{"wrong token", []string{"ls", "--addr", addr, "--api-token", "nope"}, exitFailure, "wrong API token"},
		{"add missing file", []string{"add", "--addr", addr, "/no/such.torrent"}, exitFailure, "no such file"},
		{"add bad magnet", []string{"add", "--addr", addr, "magnet:?dn=x"}, exitFailure, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := gobit(t, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d stderr %q; want exit %d and %q", code, errOut, tt.code, tt.want)
			}
		})
	}
}

func TestRemoteDaemonDown(t *testing.T) {
	clearEnv(t)
	_, addr := startFakeDaemon(t, "")
	srvAddr := addr
	// Find a closed port: start and stop a server.
	srv := httptest.NewServer(nil)
	closed := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	_, errOut, code := gobit(t, "ls", "--addr", closed)
	if code != exitFailure || !strings.Contains(errOut, "gobit serve") {
		t.Errorf("daemon down: exit %d stderr %q", code, errOut)
	}
	// GOBIT_ADDR reaches remote commands.
	t.Setenv("GOBIT_ADDR", srvAddr)
	if out, errOut, code := gobit(t, "ls"); code != 0 || !strings.Contains(out, "no torrents") {
		t.Errorf("ls via GOBIT_ADDR: exit %d %q %q", code, out, errOut)
	}
}

func (f *fakeDaemon) UpdateTorrent(h string, u session.TorrentUpdate) (session.Status, error) {
	return session.Status{}, session.ErrNotFound
}

func (f *fakeDaemon) Settings() session.Settings { return session.Settings{} }

func (f *fakeDaemon) UpdateSettings(u session.SettingsUpdate) (session.Settings, error) {
	return session.Settings{}, nil
}

func (f *fakeDaemon) Recheck(h string) error { return f.set(h, session.StateChecking) }

func (f *fakeDaemon) Move(h, dir string) error { return f.set(h, session.StateChecking) }

func (f *fakeDaemon) DHTStats() (dht.Stats, bool) { return dht.Stats{}, false }
