package session

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// TestSecondSessionOnLockedDataDir: a second session on a data directory in
// use fails within a couple of seconds with ErrLocked, even with local
// service discovery on (its loop used to be left running, and New waited
// for it forever), and leaves nothing bound behind it.
func TestSecondSessionOnLockedDataDir(t *testing.T) {
	data := t.TempDir()
	cfg := Config{
		DownloadDir: t.TempDir(),
		DataDir:     data,
		ListenAddr:  "127.0.0.1",
		// LSD on, kept on loopback: announces go to a unicast discard
		// address, never to the multicast group.
		LSD:       true,
		LSDGroup:  "127.0.0.1:9",
		LSDListen: "127.0.0.1:0",
	}
	first, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if !DataDirInUse(data) {
		t.Error("DataDirInUse: the first session's data directory is not in use")
	}

	// The second session asks for a fixed port, to check below that it
	// does not keep it.
	port, err := testutil.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cfg2 := cfg
	cfg2.Port = port
	type result struct {
		s   *Session
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		s, err := New(cfg2)
		done <- result{s, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("New on a locked data directory did not return within 10 s")
	}
	if r.err == nil {
		r.s.Close()
		t.Fatal("a second session opened a data directory in use")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("New took %v to fail, want about the 1 s lock timeout", took)
	}
	if !errors.Is(r.err, ErrLocked) || !strings.Contains(r.err.Error(), "database locked: is another gobit running?") {
		t.Errorf("error %q, want ErrLocked", r.err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Errorf("the failed session kept its peer port: %v", err)
	} else {
		ln.Close()
	}

	// Once the first session is gone the directory is free again.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if DataDirInUse(data) {
		t.Error("DataDirInUse after the first session closed")
	}
	third, err := New(cfg)
	if err != nil {
		t.Fatalf("session after the first closed: %v", err)
	}
	third.Close()
}
