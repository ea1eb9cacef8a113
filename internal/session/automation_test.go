package session

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
)

// syncLog is a log destination safe for concurrent writes.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestWatchDir(t *testing.T) {
	watch := t.TempDir()
	logs := &syncLog{}
	s, err := New(Config{
		DownloadDir: t.TempDir(), Port: -1, WatchDir: watch, WatchInterval: 30 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	data, mi, err := func() ([]byte, *metainfo.MetaInfo, error) {
		p := filepath.Join(t.TempDir(), "watched.bin")
		if err := os.WriteFile(p, bytes.Repeat([]byte("w"), 50000), 0o644); err != nil {
			return nil, nil, err
		}
		return metainfo.Create(metainfo.CreateOptions{Path: p})
	}()
	if err != nil {
		t.Fatal(err)
	}
	const magnetHash = "0123456789abcdef0123456789abcdef01234567"
	files := map[string]string{
		"a.torrent":    string(data),
		"b.MAGNET":     "\n  magnet:?xt=urn:btih:" + magnetHash + "&dn=mag\n",
		"bad.torrent":  "this is not bencode",
		"bad.magnet":   "http://example.invalid/x.torrent",
		"ignored.txt":  "magnet:?xt=urn:btih:" + strings.Repeat("1", 40),
		"empty.magnet": "",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(watch, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(name string) bool { _, err := os.Stat(filepath.Join(watch, name)); return err == nil }
	waitFor(t, "watch directory files renamed", func() bool {
		return exists("a.torrent.added") && exists("b.MAGNET.added") && exists("bad.torrent.invalid") &&
			exists("bad.magnet.invalid") && exists("empty.magnet.invalid")
	})
	if !exists("ignored.txt") {
		t.Error("a .txt file was taken")
	}
	if _, err := s.Get(mi.InfoHash.String()); err != nil {
		t.Errorf(".torrent not added: %v", err)
	}
	if _, err := s.Get(magnetHash); err != nil {
		t.Errorf(".magnet not added: %v", err)
	}
	mustLog := func(want string) {
		t.Helper()
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	mustLog("bad.torrent")
	mustLog("not a .torrent file")
	mustLog("must hold a magnet URI")

	// The same torrent again: already added, so renamed .added.
	if err := os.WriteFile(filepath.Join(watch, "dup.torrent"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the duplicate taken", func() bool { return exists("dup.torrent.added") })
	mustLog("already in the session")

}

// TestWatchTakesOnlyStableFiles drives the poll by hand: a file is taken
// only once two polls in a row see the same size and modification time.
func TestWatchTakesOnlyStableFiles(t *testing.T) {
	watch := t.TempDir()
	s := newTestSession(t)
	data := makeNamedTorrent(t, "stable")
	path := filepath.Join(watch, "s.torrent")
	if err := os.WriteFile(path, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	seen := s.watchPoll(watch, nil)
	if _, err := os.Stat(path); err != nil {
		t.Fatal("taken at its first sighting")
	}
	if err := os.WriteFile(path, data, 0o644); err != nil { // it grew
		t.Fatal(err)
	}
	seen = s.watchPoll(watch, seen)
	if _, err := os.Stat(path); err != nil {
		t.Fatal("taken while it changed between polls")
	}
	s.watchPoll(watch, seen)
	if _, err := os.Stat(path + ".added"); err != nil {
		t.Fatalf("not taken once stable: %v", err)
	}
	if len(s.List()) != 1 {
		t.Errorf("%d torrents, want 1", len(s.List()))
	}
}

func TestOnCompleteCommand(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh for the test's script")
	}
	// The seeder has the data; the leecher downloads it over loopback.
	seedDir := t.TempDir()
	p := filepath.Join(seedDir, "payload.bin")
	payload := bytes.Repeat([]byte("0123456789abcdef"), 40000)
	if err := os.WriteFile(p, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	data, mi, err := metainfo.Create(metainfo.CreateOptions{Path: p})
	if err != nil {
		t.Fatal(err)
	}
	seeder, err := New(Config{DownloadDir: seedDir, ListenAddr: "127.0.0.1", Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer seeder.Close()
	if _, err := seeder.Add(context.Background(), AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "seeder seeding", func() bool { return states(seeder)["payload.bin"] == StateSeeding })

	// The script records its environment and prints something to log;
	// a second one sleeps past its timeout.
	scripts := t.TempDir()
	out := filepath.Join(scripts, "env.out")
	script := filepath.Join(scripts, "done.sh")
	// The daemon's secrets in its environment must not reach the script.
	t.Setenv("GOBIT_API_TOKEN", "secret-token")
	t.Setenv("GOBIT_PROXY", "socks5://user:secret@127.0.0.1:1")
	body := fmt.Sprintf("#!/bin/sh\nprintf '%%s|%%s|%%s|%%s|%%s%%s' \"$GOBIT_TORRENT_HASH\" \"$GOBIT_TORRENT_NAME\" \"$GOBIT_TORRENT_DIR\" \"$(pwd)\" \"$GOBIT_API_TOKEN\" \"$GOBIT_PROXY\" > %s.tmp\nmv %s.tmp %s\necho hello from the script\n", out, out, out)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	logs := &syncLog{}
	leechDir := t.TempDir()
	leecher, err := New(Config{
		DownloadDir: leechDir, Port: -1, OnComplete: script,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer leecher.Close()
	st, err := leecher.Add(context.Background(), AddRequest{Torrent: data})
	if err != nil {
		t.Fatal(err)
	}
	if err := leecher.AddPeers(st.InfoHash, fmt.Sprintf("127.0.0.1:%d", seeder.Port())); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the on-complete script's output file", func() bool {
		_, err := os.Stat(out)
		return err == nil
	})
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := mi.InfoHash.String() + "|payload.bin|" + leechDir + "|" + leechDir + "|"
	if string(got) != want {
		t.Errorf("script saw %q, want %q", got, want)
	}
	waitFor(t, "the script's output logged", func() bool { return strings.Contains(logs.String(), "hello from the script") })
}

func TestOnCompleteTimeoutAndOutputBound(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh for the test's script")
	}
	script := filepath.Join(t.TempDir(), "slow.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nhead -c 200000 /dev/zero | tr '\\0' x\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	logs := &syncLog{}
	s := &Session{log: slog.New(slog.NewTextHandler(logs, nil))}
	start := time.Now()
	s.execOnComplete(script, t.TempDir(), []string{"GOBIT_TORRENT_HASH=x"}, 300*time.Millisecond)
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("a command past its timeout ran %v", took)
	}
	l := logs.String()
	if !strings.Contains(l, "killed after its timeout") || !strings.Contains(l, "more bytes") {
		t.Errorf("log: %.300s", l)
	}
	if len(l) > 2*maxOnCompleteOutput+4096 {
		t.Errorf("log of %d bytes: output not bounded", len(l))
	}
}

func TestOnCompleteKilledAtClose(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh for the test's script")
	}
	script := filepath.Join(t.TempDir(), "slow.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	logs := &syncLog{}
	s := &Session{log: slog.New(slog.NewTextHandler(logs, nil)), closeC: make(chan struct{})}
	time.AfterFunc(100*time.Millisecond, func() { close(s.closeC) })
	start := time.Now()
	s.execOnComplete(script, t.TempDir(), nil, time.Minute)
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("closing did not stop the command: ran %v", took)
	}
	if !strings.Contains(logs.String(), "session is closing") {
		t.Errorf("log: %s", logs.String())
	}
}
