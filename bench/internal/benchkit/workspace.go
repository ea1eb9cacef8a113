package benchkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// CheckTools reports the first program a benchmark needs that is missing:
// mktorrent and opentracker, and python with its libtorrent module.
func CheckTools(python string) error {
	for _, p := range []string{"mktorrent", "opentracker"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%s is needed: %w", p, err)
		}
	}
	if out, err := RunTimeout(exec.Command(python, "-c", "import libtorrent"), time.Minute); err != nil {
		return fmt.Errorf("%s cannot import libtorrent (install python3-libtorrent): %w: %s", python, err, out)
	}
	return nil
}

// Workspace is one benchmark invocation's directories below the work
// directory: everything of the invocation lives in LogDir, so two
// invocations can share the work directory (and its payload).
type Workspace struct {
	Work   string // the work directory, absolute
	LogDir string // <work>/logs/<time>-<pid>
	OutDir string // LogDir/out: the downloads, removed by the caller
}

// NewWorkspace creates the invocation's directories below work. They are
// world-readable, since opentracker, started as root, drops to "nobody"
// and chroots into a directory below LogDir.
func NewWorkspace(work string) (Workspace, error) {
	var w Workspace
	var err error
	if w.Work, err = filepath.Abs(work); err != nil {
		return w, err
	}
	w.LogDir = filepath.Join(w.Work, "logs", fmt.Sprintf("%s-%d", time.Now().Format("20060102-150405"), os.Getpid()))
	w.OutDir = filepath.Join(w.LogDir, "out")
	if err := os.MkdirAll(w.OutDir, 0o755); err != nil {
		return w, err
	}
	for d := w.LogDir; d != w.Work; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			return w, err
		}
	}
	return w, nil
}
