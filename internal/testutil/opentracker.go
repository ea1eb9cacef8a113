package testutil

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// otNotAuthorized is the failure opentracker's whitelist build returns for
// an info hash that is not on the whitelist.
const otNotAuthorized = "not authorized"

// StartOpentracker runs the real opentracker on 127.0.0.1 (HTTP and UDP on
// one free port) with hashes on its whitelist, and stops it in t.Cleanup.
// It returns the HTTP announce URL, the UDP announce URL and a function that
// whitelists one more hash (it appends to the whitelist, sends SIGHUP and
// waits until the tracker accepts the hash).
//
// Debian's opentracker is built whitelist-only and IPv4-only; started as root
// it switches to "nobody" and chroots to its work directory, so the
// directory is made world-readable (0755, files 0644). It is never run with
// "-u root", which makes it exit.
func StartOpentracker(t testing.TB, hashes ...[20]byte) (httpURL, udpURL string, addHash func([20]byte)) {
	t.Helper()
	bin := NeedProgram(t, "opentracker", "opentracker")
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("opentracker: %v", err)
	}
	var list bytes.Buffer
	for _, h := range hashes {
		list.WriteString(hex.EncodeToString(h[:]) + "\n")
	}
	whitelist := filepath.Join(dir, "whitelist.txt")
	conf := filepath.Join(dir, "opentracker.conf")
	for name, data := range map[string][]byte{whitelist: list.Bytes(), conf: []byte("access.stats 127.0.0.1\n")} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatalf("opentracker: %v", err)
		}
		if err := os.Chmod(name, 0o644); err != nil { // umask may have narrowed it
			t.Fatalf("opentracker: %v", err)
		}
	}

	var (
		cmd  *exec.Cmd
		port int
		err  error
	)
	// A freed port can be taken by someone else before opentracker binds
	// it; try a few.
	for attempt := 0; attempt < 5; attempt++ {
		if port, err = FreePort(); err != nil {
			continue
		}
		cmd, err = startOpentrackerOn(t, bin, dir, port, hashes)
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("opentracker: %v", err)
	}
	base := "127.0.0.1:" + strconv.Itoa(port)
	httpURL, udpURL = "http://"+base+"/announce", "udp://"+base

	var mu sync.Mutex
	addHash = func(h [20]byte) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		f, err := os.OpenFile(whitelist, os.O_APPEND|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = f.WriteString(hex.EncodeToString(h[:]) + "\n")
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err == nil {
			err = cmd.Process.Signal(syscall.SIGHUP)
		}
		if err == nil {
			err = waitWhitelisted(httpURL, h)
		}
		if err != nil {
			t.Fatalf("opentracker: whitelist %x: %v", h, err)
		}
	}
	return httpURL, udpURL, addHash
}

// startOpentrackerOn starts opentracker on 127.0.0.1:port and waits until
// its /stats page answers and it accepts the first whitelisted hash (it
// loads the whitelist in the background; and a tracker of another test
// that took the port meanwhile would refuse it). The process is stopped in
// t.Cleanup.
func startOpentrackerOn(t testing.TB, bin, dir string, port int, hashes [][20]byte) (*exec.Cmd, error) {
	p := strconv.Itoa(port)
	cmd := exec.Command(bin, "-f", filepath.Join(dir, "opentracker.conf"), "-i", "127.0.0.1",
		"-p", p, "-P", p, "-d", dir, "-w", "whitelist.txt")
	cmd.Dir = dir
	var logBuf syncBuffer
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}
	statsURL := "http://127.0.0.1:" + p + "/stats"
	client := &http.Client{Timeout: time.Second}
	errExited := errors.New("exited")
	ready := poll(10*time.Second, func() (bool, error) {
		select {
		case <-exited:
			return false, errExited
		default:
		}
		body, err := httpGet(client, statsURL)
		return err == nil && bytes.Contains(body, []byte("opentracker")), nil
	})
	if !ready {
		stop()
		return nil, fmt.Errorf("no answer from %s within 10s, or it exited: %s", statsURL, logBuf.String())
	}
	if len(hashes) > 0 {
		if err := waitWhitelisted("http://127.0.0.1:"+p+"/announce", hashes[0]); err != nil {
			stop()
			return nil, fmt.Errorf("port %d: %w: %s", port, err, logBuf.String())
		}
	}
	select {
	case <-exited:
		return nil, fmt.Errorf("exited on port %d: %s", port, logBuf.String())
	default:
	}
	t.Cleanup(stop)
	return cmd, nil
}

// waitWhitelisted polls opentracker with an announce for h until it stops
// answering "not authorized" (the whitelist loads, and reloads after
// SIGHUP, in the background). A "stopped" announce would not do: opentracker
// answers those without looking at the whitelist. The probe's peer is then
// removed again with a "stopped" announce.
func waitWhitelisted(httpURL string, h [20]byte) error {
	q := "?info_hash=" + escape(h[:]) +
		"&peer_id=-GBTEST-000000000000&port=1&uploaded=0&downloaded=0&left=0&compact=1&numwant=0"
	client := &http.Client{Timeout: time.Second}
	var (
		body []byte
		err  error
	)
	if poll(10*time.Second, func() (bool, error) {
		body, err = httpGet(client, httpURL+q)
		return err == nil && !bytes.Contains(body, []byte(otNotAuthorized)), nil
	}) {
		_, err = httpGet(client, httpURL+q+"&event=stopped")
		return err
	}
	return fmt.Errorf("still refused after 10s (last answer %q, %v)", body, err)
}

func httpGet(c *http.Client, u string) ([]byte, error) {
	resp, err := c.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, errors.New(resp.Status)
	}
	return body, nil
}

// syncBuffer is a bytes.Buffer safe for a process's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 64<<10 {
		return len(p), nil // keep the start of the log only
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// escape percent-encodes every byte of b. (url.QueryEscape turns a 0x20
// byte into "+", which opentracker reads as itself, not as a space.)
func escape(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		fmt.Fprintf(&s, "%%%02X", c)
	}
	return s.String()
}
