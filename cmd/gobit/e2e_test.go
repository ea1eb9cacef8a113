package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/store"
	"github.com/gobit/gobit/internal/swarmtest"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// seedSwarm starts an in-process tracker and a gobit seeder for a
// multi-file payload and returns the torrent bytes, its magnet and the
// payload root.
func seedSwarm(t *testing.T) (data []byte, magnet, root string) {
	t.Helper()
	tr := trackertest.New(t)
	dir := t.TempDir()
	root = swarmtest.Payload(t, dir, "e2e", 81, map[string]int{"a.bin": 700000, "sub/b.bin": 123456, "empty": 0})
	data, mi := swarmtest.MakeTorrent(t, root, 32<<10, tr.HTTPURL())
	seed := swarmtest.NewSession(t, dir)
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	swarmtest.WaitState(t, seed, mi.InfoHash.String(), 20*time.Second, session.StateSeeding)
	m := mi.Magnet()
	return data, m.String(), root
}

// TestDownloadCommandEndToEnd: `gobit download <magnet> -o DIR` fetches the
// metadata and the files from a real (in-process) swarm, prints progress
// and exits 0 with the files verified under DIR/<name>.
func TestDownloadCommandEndToEnd(t *testing.T) {
	clearEnv(t)
	_, magnet, root := seedSwarm(t)
	out := t.TempDir()
	stdout, stderr, code := gobit(t, "download", "--no-lsd", "--no-dht", "--port", "0", "--listen-host", "127.0.0.1",
		"--timeout", "60s", "-o", out, magnet)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	mustContain(t, "download output", stdout, "downloading", "complete: e2e", "100%")
	swarmtest.SameTree(t, root, filepath.Join(out, "e2e"))
}

// TestServeCurlAddMagnet: the original tool's interface, word for word: a
// running `gobit serve`, and curl posting a magnet as text/plain to
// /add/magnet; the files arrive verified in the download directory.
func TestServeCurlAddMagnet(t *testing.T) {
	clearEnv(t)
	curl := testutil.NeedProgram(t, "curl", "curl")
	_, magnet, root := seedSwarm(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--no-lsd", "--no-dht", "--addr", "127.0.0.1:0", "--port", "0", "--listen-host", "127.0.0.1",
			"--data-dir", filepath.Join(dir, "data"), "--download-dir", filepath.Join(dir, "dl")}, &out, &errOut)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	var base string
	if !testutil.Eventually(15*time.Second, func() bool {
		m := apiAddrRE.FindStringSubmatch(errOut.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	}) {
		t.Fatalf("serve did not start: %s", errOut.String())
	}
	host := strings.TrimPrefix(base, "http://")
	// The README's command, with this test's address.
	cmd := exec.Command(curl, "--noproxy", "*", "--silent", "--show-error", "--location", host+"/add/magnet",
		"--header", "Content-Type: text/plain", "--data", magnet)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v: %s", err, b)
	}
	if !strings.Contains(string(b), "added") {
		t.Fatalf("curl got %q", b)
	}
	got := filepath.Join(dir, "dl", "e2e")
	var last string
	if !testutil.Eventually(60*time.Second, func() bool {
		last, _, _ = gobit(t, "ls", "--addr", host)
		return strings.Contains(last, "seeding")
	}) {
		t.Fatalf("not complete after 60s:\n%s\n%s", last, errOut.String())
	}
	swarmtest.SameTree(t, root, got)
	// One torrent in detail, from a real daemon, by the prefix ls shows.
	prefix := strings.Fields(strings.Split(last, "\n")[1])[0]
	showOut, showErr, code := gobit(t, "show", "--addr", host, prefix)
	if code != 0 {
		t.Fatalf("show: exit %d: %s", code, showErr)
	}
	mustContain(t, "show", showOut, "State:", "seeding", "Files (", "100%", "Trackers (", "Peers (")
}

// TestDownloadDataDir: with --data-dir, `gobit download` records every
// piece as verified (after flushing the files) in the state database, so a
// later run resumes; without it, it leaves no state anywhere.
func TestDownloadDataDir(t *testing.T) {
	clearEnv(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where a stateless run must leave nothing
	data, magnet, root := seedSwarm(t)
	mi, err := metainfo.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"download", "--no-lsd", "--no-dht", "--port", "0", "--listen-host", "127.0.0.1", "--timeout", "60s"}

	out, state := t.TempDir(), t.TempDir()
	stdout, stderr, code := gobit(t, append(base, "-o", out, "--data-dir", state, magnet)...)
	if code != 0 {
		t.Fatalf("with --data-dir: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	swarmtest.SameTree(t, root, filepath.Join(out, "e2e"))
	db, err := store.Open(filepath.Join(state, "gobit.db"))
	if err != nil {
		t.Fatalf("state database: %v", err)
	}
	r, ok, err := db.Resume(mi.InfoHash)
	db.Close()
	if err != nil || !ok || r.NumPieces != mi.Info.NumPieces() {
		t.Fatalf("resume record: %+v, %v, %v; want %d pieces", r, ok, err, mi.Info.NumPieces())
	}
	for i := range r.NumPieces {
		if r.Bitfield[i/8]&(0x80>>(i%8)) == 0 {
			t.Fatalf("resume record lacks piece %d of a complete download", i)
		}
	}

	// The same download again with the same state: it goes on from the
	// record (complete already) instead of failing as "already added".
	stdout, stderr, code = gobit(t, append(base, "-o", out, "--data-dir", state, magnet)...)
	if code != 0 {
		t.Fatalf("again with the same --data-dir: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	swarmtest.SameTree(t, root, filepath.Join(out, "e2e"))

	out2 := t.TempDir()
	stdout, stderr, code = gobit(t, append(base, "-o", out2, magnet)...)
	if code != 0 {
		t.Fatalf("without --data-dir: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	swarmtest.SameTree(t, root, filepath.Join(out2, "e2e"))
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
		t.Errorf("a stateless download left %v in TMPDIR", left)
	}
}
