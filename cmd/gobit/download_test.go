package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// scriptedSource returns one status per Get call from a script, repeating
// the last one.
type scriptedSource struct {
	mu     sync.Mutex
	script []session.Status
	calls  int
	err    error
}

func (s *scriptedSource) Get(string) (session.Detail, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return session.Detail{}, s.err
	}
	i := min(s.calls, len(s.script)-1)
	s.calls++
	return session.Detail{Status: s.script[i]}, nil
}

// StateChanged returns nil, a channel that never fires: the tests above
// step through their scripts by polling.
func (s *scriptedSource) StateChanged(string) (<-chan struct{}, error) { return nil, nil }

// flipSource reports downloading until flip is called, then seeding, and
// signals the change the way a session does.
type flipSource struct {
	mu      sync.Mutex
	seeding bool
	changed chan struct{}
}

func (f *flipSource) Get(string) (session.Detail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seeding {
		return session.Detail{Status: st(session.StateSeeding, 1)}, nil
	}
	return session.Detail{Status: st(session.StateDownloading, 0.5)}, nil
}

func (f *flipSource) StateChanged(string) (<-chan struct{}, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed, nil
}

func (f *flipSource) flip() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seeding = true
	close(f.changed)
	f.changed = make(chan struct{})
}

// TestWatchEndsAtStateChange: the end of a download is seen when the
// session signals it, not at the next poll (an hour away here).
func TestWatchEndsAtStateChange(t *testing.T) {
	src := &flipSource{changed: make(chan struct{})}
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- watch(context.Background(), src, strings.Repeat("a", 40), watchOptions{out: &out, interval: time.Hour})
	}()
	if !testutil.Eventually(20*time.Second, func() bool { return strings.Contains(out.String(), "50.0%") }) {
		t.Fatalf("no progress shown: %q", out.String())
	}
	src.flip()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("watch did not see the state change")
	}
	mustContain(t, "output", out.String(), "complete: thing.iso")
}

func st(state session.State, progress float64) session.Status {
	return session.Status{
		InfoHash: strings.Repeat("a", 40), Name: "thing.iso", State: state, Progress: progress,
		TotalSize: 100 << 20, Completed: int64(progress * float64(100<<20)),
		DownloadRate: 3 << 20, UploadRate: 1 << 10, Peers: 4, Seeds: 2, ETASeconds: 42, SaveDir: "/tmp/out",
	}
}

func TestWatch(t *testing.T) {
	progressing := []session.Status{
		st(session.StateMetadata, 0), st(session.StateChecking, 0),
		st(session.StateDownloading, 0.25), st(session.StateDownloading, 0.5), st(session.StateSeeding, 1),
	}
	tests := []struct {
		name     string
		script   []session.Status
		getErr   error
		tty      bool
		cancel   bool          // cancel the context after a few polls
		timeout  time.Duration // a deadline cause instead of a cancel
		seed     bool
		wantErr  string
		wantCode int
		wantOut  []string
	}{
		{name: "completes plain", script: progressing,
			wantOut: []string{"fetching metadata", "checking existing data", "25.0%", "50.0%", "100%", "down 3.0 MiB/s", "peers 4 (2 seeds)", "ETA 42s", "complete: thing.iso (100 MiB) in /tmp/out"}},
		{name: "completes tty", script: progressing, tty: true,
			wantOut: []string{"\r\x1b[K[###", "-]   25.0%", "#]    100%", "complete: thing.iso"}},
		{name: "error state", script: []session.Status{st(session.StateDownloading, 0.1), func() session.Status {
			s := st(session.StateError, 0.1)
			s.Error = "disk full"
			return s
		}()}, wantErr: "download failed: disk full", wantCode: exitFailure},
		{name: "status error", script: progressing, getErr: session.ErrNotFound, wantErr: "torrent not found", wantCode: exitFailure},
		{name: "interrupted", script: []session.Status{st(session.StateDownloading, 0.4)}, cancel: true,
			wantErr: "interrupted at 40.0% of 100 MiB", wantCode: exitInterrupted},
		{name: "timed out", script: []session.Status{st(session.StateDownloading, 0.4)}, timeout: 50 * time.Millisecond,
			wantErr: "timed out after 50ms at 40.0%", wantCode: exitFailure},
		{name: "seeds until interrupted", script: progressing, seed: true, cancel: true,
			wantOut: []string{"complete: thing.iso", "seeding; press Ctrl-C", "stopped seeding"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &scriptedSource{script: tt.script, err: tt.getErr}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.timeout > 0 {
				var c2 context.CancelFunc
				ctx, c2 = context.WithTimeoutCause(ctx, tt.timeout, fmt.Errorf("timed out after %s", tt.timeout))
				defer c2()
			}
			if tt.cancel {
				go func() {
					// Cancel once the script has run out; the test fails
					// on its own if watch never gets there.
					if testutil.Eventually(20*time.Second, func() bool {
						src.mu.Lock()
						defer src.mu.Unlock()
						return src.calls > len(tt.script)+2
					}) {
						cancel()
					}
				}()
			}
			var out syncBuffer
			done := make(chan error, 1)
			go func() {
				done <- watch(ctx, src, strings.Repeat("a", 40), watchOptions{
					out: &out, tty: tt.tty, interval: time.Millisecond, plainEvery: 0, seed: tt.seed,
				})
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("watch did not return")
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				code := exitFailure
				var ee *exitError
				if errors.As(err, &ee) {
					code = ee.code
				}
				if code != tt.wantCode {
					t.Errorf("exit code %d, want %d", code, tt.wantCode)
				}
			}
			mustContain(t, "progress output", out.String(), tt.wantOut...)
			if !tt.tty && strings.Contains(out.String(), "\r") {
				t.Error("plain output contains carriage returns")
			}
		})
	}
}

func TestPlainProgressIsThrottled(t *testing.T) {
	var out syncBuffer
	p := &progress{w: &out, every: time.Hour, start: time.Now()}
	for i := 0; i < 50; i++ {
		p.show(st(session.StateDownloading, float64(i)/100), false)
	}
	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Errorf("printed %d lines in one interval, want 1", n)
	}
	p.show(st(session.StatePaused, 0.5), false) // a state change prints at once
	p.show(st(session.StateDownloading, 0.5), true)
	if n := strings.Count(out.String(), "\n"); n != 3 {
		t.Errorf("printed %d lines, want 3", n)
	}
}

func TestFormatting(t *testing.T) {
	etas := map[int64]string{-1: "-", 0: "0s", 59: "59s", 61: "1m01s", 3600: "1h00m", 3*86400 + 7200: "3d02h"}
	for in, want := range etas {
		if got := fmtETA(in); got != want {
			t.Errorf("fmtETA(%d) = %q, want %q", in, got, want)
		}
	}
	pcts := map[float64]string{0: "0.0%", 0.5: "50.0%", 0.99999: "99.9%", 1: "100%", -3: "0.0%"}
	for in, want := range pcts {
		if got := fmtPercent(in); got != want {
			t.Errorf("fmtPercent(%v) = %q, want %q", in, got, want)
		}
	}
	if got := shorten("héllo wörld", 6); got != "héllo…" {
		t.Errorf("shorten = %q", got)
	}
	if got := fmtRate(1536); got != "1.5 KiB/s" {
		t.Errorf("fmtRate = %q", got)
	}
}

func TestClassify(t *testing.T) {
	tests := map[string]sourceKind{
		"magnet:?xt=urn:btih:x": sourceMagnet,
		"MAGNET:?xt":            sourceMagnet,
		"https://a/b.torrent":   sourceURL,
		"HTTP://a/b.torrent":    sourceURL,
		"file.torrent":          sourceFile,
		"./magnet:x":            sourceFile,
		"ftp://x/y.torrent":     sourceFile,
	}
	for in, want := range tests {
		if got := classify(in); got != want {
			t.Errorf("classify(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestDownloadArgErrors(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	_, errOut, code := gobit(t, "download", "--no-lsd", "--no-dht", "-o", dir, dir+"/missing.torrent")
	if code != exitFailure || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing file: exit %d stderr %q", code, errOut)
	}
	_, errOut, code = gobit(t, "download", "--port", "70000", "x.torrent")
	if code != exitUsage || !strings.Contains(errOut, "--port") {
		t.Errorf("bad port: exit %d stderr %q", code, errOut)
	}
}

func TestPickPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	var msg strings.Builder
	if got := pickPort("127.0.0.1", port, &msg); got != 0 || !strings.Contains(msg.String(), "busy") {
		t.Errorf("busy port: got %d, message %q", got, msg.String())
	}
	if got := pickPort("127.0.0.1", 0, &msg); got != 0 {
		t.Errorf("port 0: got %d", got)
	}
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freePort := free.Addr().(*net.TCPAddr).Port
	free.Close()
	if got := pickPort("127.0.0.1", freePort, &msg); got != freePort {
		t.Errorf("free port %d: got %d", freePort, got)
	}
}
