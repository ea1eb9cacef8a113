package interop

import (
	"bytes"
	"fmt"
	"github.com/gobit/gobit/internal/testutil"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Bounds on what a test waits for and keeps.
const (
	// stopGrace is how long a process gets after SIGTERM before SIGKILL.
	stopGrace = 5 * time.Second
	// maxLog caps the output kept per process.
	maxLog = 1 << 20
	// logTail is how much of a process's output a failure message shows.
	logTail = 24 << 10
)

// process is an external program started by a test. Its combined stdout and
// stderr are kept (bounded) so that waits can look for lines and failures
// can show them. It runs in its own process group, which is killed in
// t.Cleanup.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *logBuffer
	done chan struct{} // closed when the process has exited
	err  error         // the result of Wait, valid once done is closed
}

// startProcess starts bin with args in dir and registers its cleanup: the
// process group gets SIGTERM, then SIGKILL after stopGrace, and the output
// is logged if the test failed.
func startProcess(t *testing.T, name, dir, bin string, args ...string) *process {
	t.Helper()
	p := &process{name: name, out: &logBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s (%s) output:\n%s", name, strings.Join(p.cmd.Args, " "), p.out.Tail(logTail))
		}
	})
	return p
}

// stop ends the process group: SIGTERM, then SIGKILL if it has not exited
// after stopGrace. It returns once the process has been reaped.
func (p *process) stop() {
	pgid := p.cmd.Process.Pid
	select {
	case <-p.done:
		// The leader is gone; children of its group may remain.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		return
	default:
	}
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitOutput waits until the output has a line containing substr and
// returns that line. It fails the test if the process exits first or the
// timeout passes.
func (p *process) waitOutput(t *testing.T, substr string, timeout time.Duration) string {
	t.Helper()
	var line string
	testutil.WaitForErr(t, timeout, fmt.Sprintf("%s to print %q", p.name, substr), func() (bool, error) {
		if l, ok := p.out.Line(substr); ok {
			line = l
			return true, nil
		}
		if p.exited() {
			return false, fmt.Errorf("%s exited (%v)", p.name, p.err)
		}
		return false, nil
	})
	return line
}

// waitExit waits for the process to exit by itself and returns its result.
// It fails the test when the timeout passes first.
func (p *process) waitExit(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		t.Fatalf("%s still running after %v", p.name, timeout)
		return nil
	}
}

// logBuffer collects a process's output, safe for concurrent writes. It
// keeps the first maxLog bytes.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	dropped int
}

// Write appends p, or counts it as dropped once the buffer is full.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len()+len(p) > maxLog {
		b.dropped += len(p)
		return len(p), nil
	}
	return b.buf.Write(p)
}

// Line returns the first complete line containing substr.
func (b *logBuffer) Line(substr string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data := b.buf.Bytes()
	i := bytes.Index(data, []byte(substr))
	if i < 0 {
		return "", false
	}
	start := bytes.LastIndexByte(data[:i], '\n') + 1
	end := bytes.IndexByte(data[i:], '\n')
	if end < 0 {
		return "", false // not complete yet
	}
	return string(data[start : i+end]), true
}

// Tail returns the last n bytes of the output.
func (b *logBuffer) Tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	data := b.buf.Bytes()
	prefix := ""
	if len(data) > n {
		data = data[len(data)-n:]
		prefix = "[...]\n"
	}
	suffix := ""
	if b.dropped > 0 {
		suffix = fmt.Sprintf("\n[%d bytes of output dropped]", b.dropped)
	}
	return prefix + string(data) + suffix
}

// freePort returns a port that was free on 127.0.0.1 for both TCP and UDP a
// moment ago (libtorrent uses the same port for uTP).
func freePort(t *testing.T) int {
	t.Helper()
	port, err := testutil.FreePort()
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	return port
}
