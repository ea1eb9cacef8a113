//go:build linux && (amd64 || arm64)

package diskio

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// openDirectForTest opens path with O_DIRECT, skipping where the file
// system refuses it (tmpfs).
func openDirectForTest(t *testing.T, path string, flag int) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, flag|syscall.O_DIRECT, 0o644)
	if errors.Is(err, syscall.EINVAL) {
		t.Skipf("the file system of %s does not support O_DIRECT", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestAIOConcurrentWrites: more writers than the context's depth, with
// plain and vectored writes, all get their data written (a full context answers errAIOFull, which the caller
// retries), each completion reaches its own writer.
func TestAIOConcurrentWrites(t *testing.T) {
	a, err := newAIO()
	if err != nil {
		t.Skipf("no AIO here: %v", err)
	}
	defer a.close()
	path := filepath.Join(t.TempDir(), "f")
	f := openDirectForTest(t, path, os.O_RDWR|os.O_CREATE)
	const chunk, writers = 64 << 10, 3 * aioDepth
	want := make([]byte, chunk*writers)
	for i := range want {
		want[i] = byte(i*7 + i>>12)
	}
	buf := alignedBuf(len(want))
	copy(buf, want)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := buf[w*chunk : (w+1)*chunk]
			iov := [][]byte{p}
			if w%2 == 1 { // vectored: four 16 KiB buffers
				iov = [][]byte{p[:16<<10], p[16<<10 : 32<<10], p[32<<10 : 48<<10], p[48<<10:]}
			}
			for {
				n, err := a.pwrite(f.Fd(), iov, int64(w*chunk))
				if errors.Is(err, errAIOFull) {
					runtime.Gosched()
					continue
				}
				if err == nil && n != len(p) {
					err = errors.New("short write")
				}
				errs <- err
				return
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("file content differs from what was written")
	}
}

// TestAIOErrors: a write the kernel refuses reports its errno, whether it
// fails at submission (a read-only descriptor) or at completion.
func TestAIOErrors(t *testing.T) {
	a, err := newAIO()
	if err != nil {
		t.Skipf("no AIO here: %v", err)
	}
	defer a.close()
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, make([]byte, 8192), 0o644); err != nil {
		t.Fatal(err)
	}
	buf := alignedBuf(64 << 10)
	ro := openDirectForTest(t, path, os.O_RDONLY)
	if _, err := a.pwrite(ro.Fd(), [][]byte{buf[:4096]}, 0); !errors.Is(err, syscall.EBADF) {
		t.Errorf("write to a read-only descriptor: %v, want EBADF", err)
	}
	rw := openDirectForTest(t, path, os.O_RDWR)
	if _, err := a.pwrite(rw.Fd(), [][]byte{buf[:4096]}, 100); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("misaligned direct write: %v, want EINVAL", err)
	}
	// The context still works after errors.
	if n, err := a.pwrite(rw.Fd(), [][]byte{buf[:4096]}, 4096); err != nil || n != 4096 {
		t.Errorf("write after errors: %d, %v", n, err)
	}
}

// TestAIOClose: close stops the reaper and releases the context; writes
// after it are refused with errAIOFull (the storage then writes
// synchronously), and a second close is harmless.
func TestAIOClose(t *testing.T) {
	a, err := newAIO()
	if err != nil {
		t.Skipf("no AIO here: %v", err)
	}
	f := openDirectForTest(t, filepath.Join(t.TempDir(), "f"), os.O_RDWR|os.O_CREATE)
	buf := alignedBuf(64 << 10)
	if _, err := a.pwrite(f.Fd(), [][]byte{buf[:4096]}, 0); err != nil {
		t.Fatal(err)
	}
	a.close()
	select {
	case <-a.reaped:
	case <-time.After(10 * time.Second):
		t.Fatal("the reaper did not stop")
	}
	if _, err := a.pwrite(f.Fd(), [][]byte{buf[:4096]}, 0); !errors.Is(err, errAIOFull) {
		t.Errorf("write after close: %v, want errAIOFull", err)
	}
	a.close()
}

// TestCloseReleasesAIO: an IO that wrote directly releases its AIO
// context on Close, and later writes still land (synchronously, without a
// new context).
func TestCloseReleasesAIO(t *testing.T) {
	const pl = 64 << 10
	d, f, tf := openTest(t, Options{})
	if err := d.WriteAt(f, 0, [][]byte{alignedBuf(pl)}, 0); err != nil {
		t.Fatal(err)
	}
	a := d.aio
	if a == nil && d.Stats().Mode&Async != 0 {
		t.Fatal("no AIO context after a direct write")
	}
	d.Close()
	if a != nil {
		select {
		case <-a.reaped:
		default:
			t.Fatal("the AIO reaper still runs after Close")
		}
	}
	if err := d.WriteAt(f, 0, [][]byte{alignedBuf(pl)}, pl); err != nil {
		t.Fatalf("write after the AIO context closed: %v", err)
	}
	if d.aio != nil || d.Stats().AsyncReady {
		t.Fatal("a closed IO set up a new AIO context")
	}
	if d.Stats().Mode&Direct != 0 && tf.acquired.Load() != 2 {
		t.Fatalf("%d direct handles taken for 2 direct writes", tf.acquired.Load())
	}
}

// TestReleaseAIO: a released AIO context is retired, and the next direct
// write sets up a new one (unlike Close, which is for good); the data of
// writes on both sides of the release is in the file.
func TestReleaseAIO(t *testing.T) {
	const pl = 64 << 10
	d, f, _ := openTest(t, Options{})
	p0, p1 := alignedBuf(pl), alignedBuf(pl)
	for i := range p0 {
		p0[i], p1[i] = byte(i), byte(i*7)
	}
	if err := d.WriteAt(f, 0, [][]byte{p0}, 0); err != nil {
		t.Fatal(err)
	}
	a := d.aio
	if a == nil {
		t.Skipf("no AIO context after a direct write (mode %v): AIO or direct I/O is unavailable here", d.Stats().Mode)
	}
	d.Release()
	select {
	case <-a.reaped:
	default:
		t.Fatal("the AIO reaper still runs after Release")
	}
	if d.Stats().AsyncReady {
		t.Fatal("the released context is still the IO's")
	}
	if err := d.WriteAt(f, 0, [][]byte{p1}, pl); err != nil {
		t.Fatalf("write after the release: %v", err)
	}
	if d.aio == nil || d.aio == a {
		t.Fatal("the write after the release set up no new AIO context")
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:pl], p0) || !bytes.Equal(got[pl:], p1) {
		t.Fatal("the file does not hold the data written around the release")
	}
}

// TestAIOCloseLetsOthersRun: io_destroy sleeps in the kernel for RCU grace
// periods (tens of ms). On one processor, a raw system call would keep the
// processor for all of it and every other goroutine would stop; a plain one
// lets the runtime hand the processor on. A ticking goroutine must see no
// gap as long as the close itself (five tries, for a loaded machine).
// Where the kernel retires the context quickly there is nothing to see,
// and the test says so.
func TestAIOCloseLetsOthersRun(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var last time.Duration
	for attempt := range 5 {
		a, err := newAIO()
		if err != nil {
			t.Skipf("no AIO here: %v", err)
		}
		stop := make(chan struct{})
		gapC := make(chan time.Duration)
		go func() {
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			prev, gap := time.Now(), time.Duration(0)
			for {
				select {
				case <-stop:
					gapC <- gap
					return
				case <-tick.C:
					// Not the tick's value: that is when the tick was due.
					now := time.Now()
					gap = max(gap, now.Sub(prev))
					prev = now
				}
			}
		}()
		time.Sleep(5 * time.Millisecond)
		start := time.Now()
		a.close()
		d := time.Since(start)
		close(stop)
		gap := <-gapC
		if d < 15*time.Millisecond {
			t.Skipf("close took %v: the kernel retires AIO contexts quickly here, no stall to see", d)
		}
		// Held, the gap is the whole close (within a tick); handed on, it
		// is the runtime's monitor's delay, at most about 20 ms.
		if gap < d-4*time.Millisecond {
			return
		}
		t.Logf("attempt %d: close took %v, the other goroutine waited up to %v", attempt+1, d, gap)
		last = gap
	}
	t.Fatalf("other goroutines stopped for %v while the AIO context closed: the processor was held", last)
}
