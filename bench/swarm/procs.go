package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrTimeout reports that a wait ran past its deadline.
var ErrTimeout = errors.New("timed out")

// running holds every child process that has not been reaped, so that
// killAll can end them on exit or on a signal.
var running = struct {
	mu    sync.Mutex
	procs map[*proc]struct{}
}{procs: map[*proc]struct{}{}}

// proc is one child process. Its output goes to a log file and to an
// in-memory buffer that waitFor searches. Each child leads its own process
// group so that killing it also kills anything it started.
type proc struct {
	name  string
	cmd   *exec.Cmd
	out   *logBuffer
	stdin io.WriteCloser
	start time.Time

	// doneAt is when the work ended, for clients that keep running after
	// it (Transmission); zero otherwise.
	doneAt time.Time

	doneC chan struct{} // closed once the process has been reaped
	end   time.Time     // when it was reaped; set before doneC closes
	err   error         // Wait's result; set before doneC closes
}

// startProc starts argv in dir with its output logged to logDir/name.log.
func startProc(name, dir, logDir string, argv ...string) (*proc, error) {
	lf, err := os.Create(filepath.Join(logDir, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("%s: creating the log: %w", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	buf := &logBuffer{file: lf}
	cmd.Stdout, cmd.Stderr = buf, buf
	// Pdeathsig kills the child if this program dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		lf.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, out: buf, stdin: stdin, doneC: make(chan struct{})}
	running.mu.Lock()
	defer running.mu.Unlock()
	if running.procs == nil {
		lf.Close()
		return nil, fmt.Errorf("%s: not started: shutting down", name)
	}
	noteRSSFloor(lowerRSSFloor())
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("starting %s (%s): %w", name, argv[0], err)
	}
	running.procs[p] = struct{}{}
	go func() {
		err := cmd.Wait()
		p.end, p.err = time.Now(), err
		lf.Close()
		running.mu.Lock()
		delete(running.procs, p)
		running.mu.Unlock()
		close(p.doneC)
	}()
	return p, nil
}

// exited reports whether the process has been reaped.
func (p *proc) exited() bool {
	select {
	case <-p.doneC:
		return true
	default:
		return false
	}
}

// wait waits up to timeout for the process to exit by itself and returns
// its exit error. On timeout the process is killed and the error wraps
// ErrTimeout.
func (p *proc) wait(timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.doneC:
		if p.err != nil {
			return fmt.Errorf("%s: %w; last output:\n%s", p.name, p.err, p.out.tail(2000))
		}
		return nil
	case <-t.C:
		p.kill()
		return fmt.Errorf("%s: %w after %s; last output:\n%s", p.name, ErrTimeout, timeout, p.out.tail(2000))
	}
}

// stop sends SIGTERM to the process group, waits up to grace and then
// kills it. It returns once the process has been reaped (or after a last
// bounded wait).
func (p *proc) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.doneC:
	case <-time.After(grace):
		p.kill()
	}
}

// kill sends SIGKILL to the process group and waits a bounded time for
// the reaper.
func (p *proc) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.doneC:
	case <-time.After(10 * time.Second):
	}
}

// waitFor waits until the output contains substr. It fails if the process
// exits first or after timeout.
func (p *proc) waitFor(substr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if p.out.contains(substr) {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s exited (%v) before printing %q; last output:\n%s", p.name, p.err, substr, p.out.tail(2000))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w waiting %s for %q; last output:\n%s", p.name, ErrTimeout, timeout, substr, p.out.tail(2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// usage returns the process's wall time, user+system CPU seconds and peak
// RSS in bytes. It must only be called after the process exited.
func (p *proc) usage() (wall, cpu float64, rss int64) {
	wall = p.end.Sub(p.start).Seconds()
	if ps := p.cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			cpu = tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
			rss = ru.Maxrss * 1024 // KiB on Linux
		}
	}
	return wall, cpu, rss
}

// sysCPU returns the process's system CPU seconds (kernel time, part of
// usage's cpu). It must only be called after the process exited.
func (p *proc) sysCPU() float64 {
	if ps := p.cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			return tvSeconds(ru.Stime)
		}
	}
	return 0
}

func tvSeconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}

// killAll kills every child that is still running and refuses new ones.
func killAll() {
	running.mu.Lock()
	procs := running.procs
	running.procs = nil
	running.mu.Unlock()
	for p := range procs {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	for p := range procs {
		select {
		case <-p.doneC:
		case <-time.After(5 * time.Second):
		}
	}
}

// logBuffer keeps a child's output for searching (the first maxKeep bytes
// and a rolling tail) and copies it to a log file.
type logBuffer struct {
	mu   sync.Mutex
	file *os.File
	head bytes.Buffer
	last []byte
}

const maxKeep = 1 << 20

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, _ = b.file.Write(p) // a failed log write must not break the child
	if b.head.Len() < maxKeep {
		b.head.Write(p)
	}
	b.last = append(b.last, p...)
	if len(b.last) > 2*maxKeep {
		b.last = append([]byte(nil), b.last[len(b.last)-maxKeep:]...)
	}
	return len(p), nil
}

func (b *logBuffer) contains(s string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Contains(b.head.Bytes(), []byte(s)) || bytes.Contains(b.last, []byte(s))
}

// tail returns the last n bytes of output.
func (b *logBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.last
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return strings.TrimSpace(strings.ReplaceAll(string(s), "\r", "\n"))
}

// settleDisk writes out what earlier runs left in flight, so that no timed
// run pays for another's: the dirty pages of clients that write through the
// page cache, and the discards that a file system mounted with "discard"
// issues for deleted downloads at its next journal commit. Measured here: a
// 1 GiB download deleted just before gobit started put 1 GiB of discards
// (0.3 s of device time) into gobit's run, whose direct writes queue behind
// them on the device.
func settleDisk() { syscall.Sync() }

// rssFloor is the highest RSS this program had when it started a child
// (bytes): no child's ru_maxrss can read below it (lowerRSSFloor).
var rssFloor struct {
	mu  sync.Mutex
	max int64
}

func noteRSSFloor(n int64) {
	rssFloor.mu.Lock()
	rssFloor.max = max(rssFloor.max, n)
	rssFloor.mu.Unlock()
}

// maxRSSFloor returns the highest floor noted so far.
func maxRSSFloor() int64 {
	rssFloor.mu.Lock()
	defer rssFloor.mu.Unlock()
	return rssFloor.max
}

// lowerRSSFloor hands this program's free memory back to the kernel and
// resets its peak-RSS mark, and returns its RSS now. Linux starts a child's
// ru_maxrss from the RSS of the process it was forked from (the fork copies
// the page tables, and exec keeps the mark), so without this every client's
// peak RSS read at least this program's own peak: 29 MiB for gobit, aria2
// and Transmission alike once the data checks had grown the heap.
func lowerRSSFloor() int64 {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // 5: reset the peak RSS (Linux 4.0)
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kib int64
			fmt.Sscan(rest, &kib) // "  8960 kB"
			return kib << 10
		}
	}
	return 0
}

// rssFloorNote is the footnote that gives the floor of the peak RSS column.
func rssFloorNote() string {
	return fmt.Sprintf("No peak RSS can read below %.1f MiB, the benchmark's own largest RSS when it started a client.", float64(maxRSSFloor())/(1<<20))
}
