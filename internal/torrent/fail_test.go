package torrent

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/gobit/gobit/internal/metainfo"
)

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestFailLogsOnce: when a disk fails, every piece being written fails
// after the first; the torrent keeps and logs the first error once, not
// once per piece. After a resume clears the error, a new one is reported.
func TestFailLogsOnce(t *testing.T) {
	var logs lockedBuffer
	tr := New(Config{
		InfoHash: metainfo.Hash{1, 2, 3},
		Logger:   slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	defer tr.Close(false)
	count := func() int { return strings.Count(logs.String(), "torrent stopped by error") }

	if err := tr.do(func() {
		for i := range 20 {
			tr.fail(errors.New("write piece " + string(rune('a'+i)) + ": no space left on device"))
		}
	}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logs.String())
	}
	st := tr.Stats()
	if st.State != StateError || st.Error != "write piece a: no space left on device" {
		t.Errorf("state %q error %q, want the first error", st.State, st.Error)
	}

	if err := tr.Resume(); err != nil {
		t.Fatal(err)
	}
	if st := tr.Stats(); st.State == StateError || st.Error != "" {
		t.Fatalf("after resume: state %q error %q", st.State, st.Error)
	}
	if err := tr.do(func() { tr.fail(errors.New("second failure")) }); err != nil {
		t.Fatal(err)
	}
	if st := tr.Stats(); st.Error != "second failure" {
		t.Errorf("error after a resume and a new failure: %q", st.Error)
	}
	if n := count(); n != 2 {
		t.Errorf("logged %d times after a second failure, want 2", n)
	}
}
