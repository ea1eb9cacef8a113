package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/swarmtest"
	"github.com/gobit/gobit/internal/testutil"
)

// TestServeWatchDirAndOnComplete: a running `gobit serve --watch-dir
// --on-complete` adds a .magnet file dropped in the directory, downloads
// it from an in-process swarm, renames the file .added, and runs the
// program with the torrent's hash, name and directory in its environment.
func TestServeWatchDirAndOnComplete(t *testing.T) {
	clearEnv(t)
	sh := testutil.NeedProgram(t, "sh", "dash")
	_, magnet, root := seedSwarm(t)
	dir := t.TempDir()
	watch := filepath.Join(dir, "watch")
	if err := os.Mkdir(watch, 0o755); err != nil {
		t.Fatal(err)
	}
	envOut := filepath.Join(dir, "env.out")
	script := filepath.Join(dir, "done.sh")
	body := "#!" + sh + "\nprintf '%s|%s|%s' \"$GOBIT_TORRENT_HASH\" \"$GOBIT_TORRENT_NAME\" \"$GOBIT_TORRENT_DIR\" > " + envOut + ".tmp\nmv " + envOut + ".tmp " + envOut + "\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--no-lsd", "--no-dht", "--addr", "127.0.0.1:0", "--port", "0", "--listen-host", "127.0.0.1",
			"--data-dir", filepath.Join(dir, "data"), "--download-dir", filepath.Join(dir, "dl"),
			"--watch-dir", watch, "--on-complete", script, "--max-active-downloads", "2"}, &out, &errOut)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	if !testutil.Eventually(15*time.Second, func() bool { return apiAddrRE.MatchString(errOut.String()) }) {
		t.Fatalf("serve did not start: %s", errOut.String())
	}
	if err := os.WriteFile(filepath.Join(watch, "e2e.magnet"), []byte(magnet+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !testutil.Eventually(60*time.Second, func() bool { _, err := os.Stat(envOut); return err == nil }) {
		t.Fatalf("on-complete program not run:\n%s", errOut.String())
	}
	got, err := os.ReadFile(envOut)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(got), "|")
	if len(parts) != 3 || len(parts[0]) != 40 || parts[1] != "e2e" || parts[2] != filepath.Join(dir, "dl") {
		t.Errorf("program saw %q", got)
	}
	if _, err := os.Stat(filepath.Join(watch, "e2e.magnet.added")); err != nil {
		t.Errorf("watched file not renamed: %v", err)
	}
	swarmtest.SameTree(t, root, filepath.Join(dir, "dl", "e2e"))
}
