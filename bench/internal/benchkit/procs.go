package benchkit

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
// KillAll can end them on exit or on a signal.
var running = struct {
	mu    sync.Mutex
	procs map[*Proc]struct{}
}{procs: map[*Proc]struct{}{}}

// Proc is one child process. Its output goes to a log file and to an
// in-memory buffer that WaitFor searches. Each child leads its own process
// group so that killing it also kills anything it started.
type Proc struct {
	Name  string
	Cmd   *exec.Cmd
	Out   *LogBuffer
	Stdin io.WriteCloser
	Start time.Time

	// DoneAt is when the work ended, for clients that keep running after
	// it (Transmission); zero otherwise. The caller sets it.
	DoneAt time.Time

	doneC chan struct{} // closed once the process has been reaped
	End   time.Time     // when it was reaped; set before Exited turns true
	Err   error         // Wait's result; set before Exited turns true
}

// StartProc starts argv in dir with its output logged to logDir/name.log.
func StartProc(name, dir, logDir string, argv ...string) (*Proc, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("%s: no command", name)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	return StartCmd(name, logDir, cmd)
}

// StartCmd starts a prepared command (its path, arguments, directory and
// environment; for example one that enters a network namespace) with its
// output logged to logDir/name.log. It sets the command's output, stdin
// and process attributes itself.
func StartCmd(name, logDir string, cmd *exec.Cmd) (*Proc, error) {
	lf, err := os.Create(filepath.Join(logDir, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("%s: creating the log: %w", name, err)
	}
	buf := &LogBuffer{file: lf}
	cmd.Stdout, cmd.Stderr = buf, buf
	// Pdeathsig kills the child if this program dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		lf.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &Proc{Name: name, Cmd: cmd, Out: buf, Stdin: stdin, doneC: make(chan struct{})}
	running.mu.Lock()
	defer running.mu.Unlock()
	if running.procs == nil {
		lf.Close()
		return nil, fmt.Errorf("%s: not started: shutting down", name)
	}
	noteRSSFloor(lowerRSSFloor())
	p.Start = time.Now()
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("starting %s (%s): %w", name, cmd.Path, err)
	}
	running.procs[p] = struct{}{}
	go func() {
		err := cmd.Wait()
		p.End, p.Err = time.Now(), err
		lf.Close()
		running.mu.Lock()
		delete(running.procs, p)
		running.mu.Unlock()
		close(p.doneC)
	}()
	return p, nil
}

// Done returns a channel closed once the process has been reaped.
func (p *Proc) Done() <-chan struct{} { return p.doneC }

// Exited reports whether the process has been reaped.
func (p *Proc) Exited() bool {
	select {
	case <-p.doneC:
		return true
	default:
		return false
	}
}

// Wait waits up to timeout for the process to exit by itself and returns
// its exit error. On timeout the process is killed and the error wraps
// ErrTimeout.
func (p *Proc) Wait(timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.doneC:
		if p.Err != nil {
			return fmt.Errorf("%s: %w; last output:\n%s", p.Name, p.Err, p.Out.Tail(2000))
		}
		return nil
	case <-t.C:
		p.Kill()
		return fmt.Errorf("%s: %w after %s; last output:\n%s", p.Name, ErrTimeout, timeout, p.Out.Tail(2000))
	}
}

// Stop sends SIGTERM to the process group, waits up to grace and then
// kills it. It returns once the process has been reaped (or after a last
// bounded wait).
func (p *Proc) Stop(grace time.Duration) {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.doneC:
	case <-time.After(grace):
		p.Kill()
	}
}

// Kill sends SIGKILL to the process group and waits a bounded time for
// the reaper.
func (p *Proc) Kill() {
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.doneC:
	case <-time.After(10 * time.Second):
	}
}

// WaitFor waits until the output contains substr. It fails if the process
// exits first or after timeout.
func (p *Proc) WaitFor(substr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if p.Out.Contains(substr) {
			return nil
		}
		if p.Exited() {
			return fmt.Errorf("%s exited (%v) before printing %q; last output:\n%s", p.Name, p.Err, substr, p.Out.Tail(2000))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w waiting %s for %q; last output:\n%s", p.Name, ErrTimeout, timeout, substr, p.Out.Tail(2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Usage returns the process's wall time, user+system CPU seconds and peak
// RSS in bytes. It must only be called after the process exited.
func (p *Proc) Usage() (wall, cpu float64, rss int64) {
	wall = p.End.Sub(p.Start).Seconds()
	if ps := p.Cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			cpu = tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
			rss = ru.Maxrss * 1024 // KiB on Linux
		}
	}
	return wall, cpu, rss
}

// SysCPU returns the process's system CPU seconds (kernel time, part of
// usage's cpu). It must only be called after the process exited.
func (p *Proc) SysCPU() float64 {
	if ps := p.Cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			return tvSeconds(ru.Stime)
		}
	}
	return 0
}

func tvSeconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}

// KillAll kills every child that is still running and refuses new ones.
func KillAll() {
	running.mu.Lock()
	procs := running.procs
	running.procs = nil
	running.mu.Unlock()
	for p := range procs {
		_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
	}
	for p := range procs {
		select {
		case <-p.doneC:
		case <-time.After(5 * time.Second):
		}
	}
}

// LogBuffer keeps a child's output for searching (the first maxKeep bytes
// and a rolling tail) and copies it to a log file.
type LogBuffer struct {
	mu   sync.Mutex
	file *os.File
	head bytes.Buffer
	last []byte
}

const maxKeep = 1 << 20

func (b *LogBuffer) Write(p []byte) (int, error) {
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

func (b *LogBuffer) Contains(s string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Contains(b.head.Bytes(), []byte(s)) || bytes.Contains(b.last, []byte(s))
}

// Tail returns the last n bytes of output.
func (b *LogBuffer) Tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.last
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return strings.TrimSpace(strings.ReplaceAll(string(s), "\r", "\n"))
}

// Text returns everything kept.
func (b *LogBuffer) Text() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.head.Len() < maxKeep {
		return b.head.String()
	}
	return b.head.String() + "\n...\n" + string(b.last)
}

// SettleDisk writes out what earlier runs left in flight, so that no timed
// run pays for another's: the dirty pages of clients that write through the
// page cache, and the discards that a file system mounted with "discard"
// issues for deleted downloads at its next journal commit. Measured here: a
// 1 GiB download deleted just before gobit started put 1 GiB of discards
// (0.3 s of device time) into gobit's run, whose direct writes queue behind
// them on the device.
func SettleDisk() { syscall.Sync() }

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

// MaxRSSFloor returns the highest floor noted so far.
func MaxRSSFloor() int64 {
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

// RSSFloorNote is the footnote that gives the floor of the peak RSS column.
func RSSFloorNote() string {
	return fmt.Sprintf("No peak RSS can read below %.1f MiB, the benchmark's own largest RSS when it started a client.", float64(MaxRSSFloor())/(1<<20))
}
