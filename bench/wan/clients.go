package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gobit/gobit/bench/internal/benchkit"
	"github.com/gobit/gobit/bench/wan/netem"
)

// leecherRun is one downloading client.
type leecherRun struct {
	p *benchkit.Proc
	// done reports whether the download is complete while the process
	// may still run (nil: complete when the process exits with status 0).
	done func() bool
	// stopOnDone stops the process once done (Transmission seeds on).
	stopOnDone bool
	// cleanup runs after the wait (removes Transmission's configuration).
	cleanup func()
}

// startLeecher starts client downloading the swarm's torrent into out on
// node nd. A libtorrent leecher with seedAfter keeps seeding once
// complete.
func (e *env) startLeecher(sw *swarm, client string, nd *netem.Node, name, out string, port int, timeout time.Duration, seedAfter bool) (*leecherRun, error) {
	addr := nd.Addr.String()
	secs := strconv.Itoa(int(timeout.Seconds()))
	lr := &leecherRun{}
	var argv []string
	switch client {
	case clientGobit:
		argv = []string{e.gobit, "download", "--output", out, "--port", strconv.Itoa(port),
			"--listen-host", addr, "--log-level", "warn", "--no-lsd", "--no-dht", "--no-port-mapping", e.gobitTransport(), "--timeout", timeout.String(), sw.torrent}
	case clientLibtorrent:
		argv = e.ltArgv("leech", sw.torrent, out, nd, port, "--timeout", secs)
		if seedAfter {
			argv = append(argv, "--seed-after")
			lr.done = func() bool { return lr.p.Out.Contains("COMPLETE") }
		}
	case clientAnacrolix:
		if e.anacrolix == "" {
			return nil, fmt.Errorf("anacrolix's torrent CLI (go install github.com/anacrolix/torrent/cmd/torrent@v1.55.0): %w", ErrNotInstalled)
		}
		argv = []string{e.anacrolix, "download", "--addr=" + addr + ":" + strconv.Itoa(port), "--no-dht", "--no-utp-peers",
			"--no-pex", "--no-port-forward", "--no-webtorrent", "--no-ipv6", "--no-progress", sw.torrent}
	case clientAria2:
		if _, err := exec.LookPath("aria2c"); err != nil {
			return nil, fmt.Errorf("aria2c: %w", ErrNotInstalled)
		}
		argv = []string{"aria2c", "--no-conf", "--enable-dht=false", "--enable-dht6=false",
			"--bt-enable-lpd=false", "--enable-peer-exchange=false", "--interface=" + addr,
			"--disable-ipv6=true", "--summary-interval=0", "--console-log-level=warn",
			"--dir=" + out, "--seed-time=0", "--listen-port=" + strconv.Itoa(port),
			"--file-allocation=none", "--bt-stop-timeout=" + secs, sw.torrent}
	case clientTransmission:
		return e.startTransmission(sw, nd, name, out, port)
	default:
		return nil, fmt.Errorf("unknown client %q", client)
	}
	p, err := e.start(nd, name, out, argv)
	if err != nil {
		return nil, err
	}
	lr.p = p
	return lr, nil
}

// startTransmission runs transmission-cli on nd. Transmission 3.00 dials
// the 10.x peers the tracker gives it; it keeps seeding after completion,
// so a -f script touches a marker file, the completion time is when the
// marker appears, and the process is then stopped (its CPU figures include
// that short tail).
func (e *env) startTransmission(sw *swarm, nd *netem.Node, name, out string, port int) (*leecherRun, error) {
	if _, err := exec.LookPath("transmission-cli"); err != nil {
		return nil, fmt.Errorf("transmission-cli: %w", ErrNotInstalled)
	}
	conf := out + "-conf"
	if err := freshDir(conf); err != nil {
		return nil, err
	}
	settings := fmt.Sprintf(`{
  "bind-address-ipv4": %q, "rpc-enabled": false,
  "dht-enabled": false, "lpd-enabled": false, "pex-enabled": false, "utp-enabled": false,
  "port-forwarding-enabled": false, "peer-port": %d, "peer-port-random-on-start": false,
  "encryption": 0, "speed-limit-down-enabled": false, "speed-limit-up-enabled": false,
  "ratio-limit-enabled": false, "start-added-torrents": true, "message-level": 1
}
`, nd.Addr.String(), port)
	marker := filepath.Join(conf, "finished")
	script := filepath.Join(conf, "finished.sh")
	files := map[string]string{
		filepath.Join(conf, "settings.json"): settings,
		script:                               "#!/bin/sh\ntouch '" + marker + "'\n",
	}
	for fn, data := range files {
		if err := os.WriteFile(fn, []byte(data), 0o755); err != nil {
			return nil, err
		}
	}
	p, err := e.start(nd, name, out, []string{"transmission-cli", "-g", conf, "-w", out, "-p", strconv.Itoa(port),
		"-M", "-D", "-U", "-et", "-f", script, sw.torrent})
	if err != nil {
		os.RemoveAll(conf)
		return nil, err
	}
	return &leecherRun{
		p: p,
		done: func() bool {
			_, err := os.Stat(marker)
			return err == nil
		},
		stopOnDone: true,
		cleanup:    func() { os.RemoveAll(conf) },
	}, nil
}

// wait waits up to timeout (from the process's start) until the download
// is complete and sets p.DoneAt. A client that keeps running after it
// is then left to the run's group to stop.
func (lr *leecherRun) wait(timeout time.Duration) error {
	if lr.cleanup != nil {
		defer lr.cleanup()
	}
	p := lr.p
	deadline := p.Start.Add(timeout)
	for {
		if lr.done != nil && lr.done() {
			p.DoneAt = time.Now()
			if lr.stopOnDone {
				p.Stop(10 * time.Second)
			}
			return nil
		}
		if p.Exited() {
			if lr.done == nil && p.Err == nil {
				p.DoneAt = p.End
				return nil
			}
			return fmt.Errorf("%s exited (%v) before completing; last output:\n%s", p.Name, p.Err, p.Out.Tail(2000))
		}
		if time.Now().After(deadline) {
			p.Kill()
			return fmt.Errorf("%s: %w after %s; last output:\n%s", p.Name, benchkit.ErrTimeout, timeout, p.Out.Tail(2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// result returns the client's time and, once it has exited, its CPU and
// peak RSS (a client still running is stopped first).
func (lr *leecherRun) result() runResult {
	p := lr.p
	var r runResult
	r.wall = p.DoneAt.Sub(p.Start).Seconds()
	p.Stop(10 * time.Second)
	if p.Exited() {
		_, r.cpu, r.rss = p.Usage()
	}
	return r
}
