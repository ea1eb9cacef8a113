package session

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// On-complete command.
//
// With Config.OnComplete set, the session runs that program when a torrent
// finishes downloading (not for one added complete, nor at every restart),
// like Transmission's done-script. It is executed directly, never through a
// shell, with no arguments and the daemon's environment plus
// GOBIT_TORRENT_HASH (hex info hash), GOBIT_TORRENT_NAME and
// GOBIT_TORRENT_DIR (the save directory, in which the torrent's file or
// folder lies). Its working directory is the save directory. It runs in its
// own goroutine: the engine never waits for it. At most maxOnComplete run at
// once (others wait their turn, off the engine); each is killed after
// Config.OnCompleteTimeout (default 5 minutes), or when the session closes. Its exit status and its
// output (the first maxOnCompleteOutput bytes of stdout and stderr
// together) are logged.
//
// The daemon's own settings in its environment (every GOBIT_ variable, such
// as GOBIT_API_TOKEN, GOBIT_API_PASSWORD or a GOBIT_PROXY URL with its
// credentials) are not passed on: a script run for every finished torrent,
// perhaps one a user downloaded, must not learn the API's secrets.

// On-complete bounds.
const (
	DefaultOnCompleteTimeout = 5 * time.Minute
	maxOnComplete            = 4
	maxOnCompleteOutput      = 64 << 10
)

// runOnComplete starts the on-complete command for e, if one is set.
func (s *Session) runOnComplete(e *entry) {
	prog := s.cfg.OnComplete
	if prog == "" {
		return
	}
	st := e.t.Stats()
	s.mu.Lock()
	dir := e.saveDir
	if s.onDone == nil {
		s.onDone = make(chan struct{}, maxOnComplete)
	}
	sem := s.onDone
	s.mu.Unlock()
	env := []string{
		"GOBIT_TORRENT_HASH=" + st.InfoHash.String(),
		"GOBIT_TORRENT_NAME=" + st.Name,
		"GOBIT_TORRENT_DIR=" + dir,
	}
	timeout := s.cfg.OnCompleteTimeout
	if timeout <= 0 {
		timeout = DefaultOnCompleteTimeout
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case sem <- struct{}{}:
		case <-s.closeC:
			return
		}
		defer func() { <-sem }()
		s.execOnComplete(prog, dir, env, timeout)
	}()
}

// execOnComplete runs prog and logs how it went.
func (s *Session) execOnComplete(prog, dir string, env []string, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// Closing the session kills the command rather than wait for it.
	go func() {
		select {
		case <-s.closeC:
			cancel()
		case <-ctx.Done():
		}
	}()
	cmd := exec.CommandContext(ctx, prog)
	cmd.Env = append(childEnv(os.Environ()), env...)
	cmd.Dir = dir
	out := &limitedBuffer{max: maxOnCompleteOutput}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second // a grandchild holding the pipes open
	start := time.Now()
	err := cmd.Run()
	attrs := []any{"program", prog, "env", env, "took", time.Since(start).Round(time.Millisecond), "output", out.String()}
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		s.log.Warn("on-complete command killed after its timeout", append(attrs, "timeout", timeout)...)
	case ctx.Err() != nil:
		s.log.Warn("on-complete command killed: the session is closing", attrs...)
	case err != nil:
		s.log.Warn("on-complete command failed", append(attrs, "err", err)...)
	default:
		s.log.Info("on-complete command done", attrs...)
	}
}

// limitedBuffer keeps the first max bytes written to it and counts the
// rest.
type limitedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	max     int
	dropped int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	room := max(b.max-b.buf.Len(), 0)
	if room < len(p) {
		b.dropped += len(p) - room
		p = p[:room]
	}
	b.buf.Write(p)
	return n, nil // the rest is dropped, not refused: the command must not block on its output
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if b.dropped > 0 {
		s += "… (" + strconv.Itoa(b.dropped) + " more bytes)"
	}
	return s
}

// childEnv returns environ without the daemon's own GOBIT_ settings.
func childEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "GOBIT_") {
			out = append(out, kv)
		}
	}
	return out
}
