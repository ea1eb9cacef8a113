package main

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/api"
	"github.com/gobit/gobit/internal/api/apitest"
	"github.com/gobit/gobit/internal/session"
)

// startFakeDaemon serves the API over an in-memory backend whose torrents
// are half done, with rates, peers and an ETA for ls to show.
func startFakeDaemon(t *testing.T, token string) (*apitest.Backend, string) {
	t.Helper()
	fd := apitest.New()
	fd.Template = session.Status{Progress: 0.5, TotalSize: 2 << 20, DownloadRate: 1536 << 10, UploadRate: 2048, Peers: 7, ETASeconds: 125}
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
	if len(fd.Adds) != 3 || string(fd.Adds[1].Torrent) != string(torrentBytes) || fd.Adds[1].URI != "" {
		t.Fatalf("daemon got %+v", fd.Adds)
	}
	if fd.Adds[0].URI != "magnet:?xt=urn:btih:"+hashA {
		t.Errorf("magnet sent as %q", fd.Adds[0].URI)
	}
	if d := fd.Adds[0].DownloadDir; !strings.HasSuffix(d, "rel/dir") || !strings.HasPrefix(d, "/") {
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
	if fd.State(hashA) != session.StatePaused {
		t.Error("daemon not paused")
	}
	if _, _, code = gobit(t, "resume", "--addr", addr, strings.ToUpper(hashA)); code != 0 || fd.State(hashA) != session.StateDownloading {
		t.Errorf("resume: exit %d, state %s", code, fd.State(hashA))
	}
	_, errOut, code = gobit(t, "rm", "--addr", addr, "aaaa")
	if code != exitFailure || !strings.Contains(errOut, "matches 2 torrents") {
		t.Errorf("ambiguous prefix: exit %d stderr %q", code, errOut)
	}
	if out, errOut, code = gobit(t, "rm", "--addr", addr, "--delete-data", "aaaa2"); code != 0 || !strings.Contains(out, "removed "+hashB) {
		t.Fatalf("rm prefix: %d %q %q", code, out, errOut)
	}
	if del, ok := fd.Removed[hashB]; !ok || !del {
		t.Errorf("rm --delete-data: removed=%v deleteData=%v", ok, del)
	}
	if _, _, code = gobit(t, "rm", "--addr", addr, hashA); code != 0 || fd.Removed[hashA] {
		t.Errorf("rm without --delete-data: exit %d, deleteData %v", code, fd.Removed[hashA])
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

// TestListShowsWholeError: a torrent's error (a disk error names a long
// path) is printed whole below the table, not cut to fit a column.
func TestListShowsWholeError(t *testing.T) {
	long := "write piece 3: open /srv/torrents/" + strings.Repeat("very-long-directory-name/", 4) + "file.iso: permission denied"
	l := []session.Status{
		{InfoHash: strings.Repeat("a", 40), Name: "ok", State: session.StateDownloading, ETASeconds: -1},
		{InfoHash: strings.Repeat("b", 40), Name: "broken", State: session.StateError, Error: long, ETASeconds: -1},
	}
	var out strings.Builder
	if err := printTable(&out, l); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "ls output", out.String(), "bbbbbbbb: "+long+"\n")
	if strings.Count(out.String(), "permission denied") != 1 {
		t.Errorf("the error is shown more than once:\n%s", out.String())
	}
}
