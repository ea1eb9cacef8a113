package main

import (
	"errors"
	"fmt"
	"github.com/gobit/gobit/internal/testutil"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Client names accepted by -clients.
const (
	clientGobit        = "gobit"
	clientAria2        = "aria2"
	clientLibtorrent   = "libtorrent"
	clientTransmission = "transmission"
)

// ErrNotInstalled reports a client whose program is missing; its row says
// "n/a" instead of failing the benchmark.
var ErrNotInstalled = errors.New("not installed")

// env is what every client run needs.
type env struct {
	work       string // -work
	logDir     string // per-invocation directory: logs, tracker, results
	outDir     string // per-invocation download directory, below logDir
	torrent    string // the .torrent with this invocation's tracker
	payload    string // the complete payload file
	size       int64
	gobit      string // gobit binary
	python     string // interpreter with libtorrent
	script     string // ltpeer.py
	timeout    time.Duration
	profileDir string
	utp        bool
	encryption string  // gobit's --encryption, when set
	seeders    []*proc // libtorrent seeders of leech mode (connect commands go to their stdin)
}

// result is one client's figures in one run.
type result struct {
	wall, cpu float64 // seconds
	sys       float64 // seconds of cpu spent in the kernel
	rss       int64   // bytes
	// steal is the share of the machine's processor time the hypervisor
	// took during the run (NaN if unknown).
	steal float64
	err   error
}

// ltArgs returns the command line of a libtorrent peer.
func (e *env) ltArgs(mode, save string, port int, extra ...string) []string {
	a := []string{e.python, e.script, mode, "--torrent", e.torrent, "--save", save, "--port", strconv.Itoa(port)}
	if e.utp {
		a = append(a, "--utp")
	}
	return append(a, extra...)
}

// freshDir empties and creates dir.
func freshDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o755)
}

// runLeecher downloads the torrent with client into a fresh directory,
// verifies the data against the payload and removes it.
func runLeecher(e *env, client string, run int) result {
	tag := fmt.Sprintf("%s-leech-run%d", client, run)
	out := filepath.Join(e.outDir, tag)
	if err := freshDir(out); err != nil {
		return result{err: err}
	}
	defer os.RemoveAll(out)
	settleDisk()
	port, err := testutil.FreePort()
	if err != nil {
		return result{err: err}
	}
	steal := readCPUTimes()
	var pr *proc
	switch client {
	case clientGobit:
		pr, err = startProc(tag, out, e.logDir, e.gobitArgs(tag, out, port, false)...)
		if err == nil {
			err = pr.Wait(e.timeout)
		}
	case clientAria2:
		argv := append(aria2Base(), "--dir="+out, "--seed-time=0", "--listen-port="+strconv.Itoa(port),
			"--file-allocation=none", "--bt-stop-timeout="+strconv.Itoa(int(e.timeout.Seconds())), e.torrent)
		pr, err = startProc(tag, out, e.logDir, argv...)
		if err == nil {
			err = pr.Wait(e.timeout)
		}
	case clientLibtorrent:
		argv := e.ltArgs("leech", out, port, "--timeout", strconv.Itoa(int(e.timeout.Seconds())))
		pr, err = startProc(tag, out, e.logDir, argv...)
		if err == nil {
			err = pr.Wait(e.timeout + 30*time.Second)
		}
	case clientTransmission:
		pr, err = e.runTransmission(tag, out, port)
	default:
		err = fmt.Errorf("unknown client %q", client)
	}
	if err != nil {
		return result{err: err}
	}
	r := result{steal: stealSince(steal)}
	r.wall, r.cpu, r.rss = pr.Usage()
	r.sys = pr.SysCPU()
	if client == clientTransmission {
		r.wall = pr.DoneAt.Sub(pr.Start).Seconds()
	}
	if err := verify(filepath.Join(out, filepath.Base(e.payload)), e.payload); err != nil {
		return result{err: err}
	}
	return r
}

// gobitArgs returns the command line of gobit download.
func (e *env) gobitArgs(tag, out string, port int, seed bool) []string {
	a := []string{e.gobit, "download", "--output", out, "--port", strconv.Itoa(port),
		"--listen-host", "127.0.0.1", "--log-level", "warn", "--no-lsd", "--no-dht"}
	if e.utp {
		a = append(a, "--tcp=false") // uTP only: the -utp runs measure it
	} else {
		a = append(a, "--utp=false")
	}
	if !seed {
		a = append(a, "--timeout", e.timeout.String())
	} else {
		a = append(a, "--seed")
	}
	if e.encryption != "" {
		a = append(a, "--encryption", e.encryption)
	}
	if e.profileDir != "" {
		a = append(a, "--cpuprofile", filepath.Join(e.profileDir, tag+".cpu.pprof"),
			"--memprofile", filepath.Join(e.profileDir, tag+".heap.pprof"))
	}
	return append(a, e.torrent)
}

// aria2Base is aria2c with everything but loopback TCP and the tracker off.
func aria2Base() []string {
	return []string{"aria2c", "--no-conf", "--enable-dht=false", "--enable-dht6=false",
		"--bt-enable-lpd=false", "--enable-peer-exchange=false", "--interface=127.0.0.1",
		"--disable-ipv6=true", "--summary-interval=0", "--console-log-level=warn"}
}

// runTransmission runs transmission-cli until its finish script has run.
// Transmission 3.00 never dials peers on 127.0.0.0/8 (libtransmission
// treats loopback as a martian address), so once it listens every
// libtorrent seeder is told on its stdin to dial it. transmission-cli
// keeps seeding after completion; a -f script touches a marker file, the
// completion time is when the marker appears, and the process is then
// stopped (its CPU figures include that short tail).
func (e *env) runTransmission(tag, out string, port int) (*proc, error) {
	if _, err := exec.LookPath("transmission-cli"); err != nil {
		return nil, fmt.Errorf("transmission-cli: %w", ErrNotInstalled)
	}
	conf := out + "-conf"
	if err := freshDir(conf); err != nil {
		return nil, err
	}
	defer os.RemoveAll(conf)
	settings := fmt.Sprintf(`{
  "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1", "rpc-enabled": false,
  "dht-enabled": false, "lpd-enabled": false, "pex-enabled": false, "utp-enabled": %t,
  "port-forwarding-enabled": false, "peer-port": %d, "peer-port-random-on-start": false,
  "encryption": 0, "speed-limit-down-enabled": false, "speed-limit-up-enabled": false,
  "ratio-limit-enabled": false, "start-added-torrents": true, "message-level": 1
}
`, e.utp, port)
	marker := filepath.Join(conf, "finished")
	script := filepath.Join(conf, "finished.sh")
	files := map[string]string{
		filepath.Join(conf, "settings.json"): settings,
		script:                               "#!/bin/sh\ntouch '" + marker + "'\n",
	}
	for name, data := range files {
		if err := os.WriteFile(name, []byte(data), 0o755); err != nil {
			return nil, err
		}
	}
	pr, err := startProc(tag, out, e.logDir, "transmission-cli", "-g", conf, "-w", out, "-p", strconv.Itoa(port),
		"-M", "-D", "-U", "-et", "-f", script, e.torrent)
	if err != nil {
		return nil, err
	}
	defer pr.Stop(10 * time.Second)
	if err := waitListening(pr, port, 30*time.Second); err != nil {
		return nil, err
	}
	for _, s := range e.seeders {
		if _, err := fmt.Fprintf(s.Stdin, "connect 127.0.0.1:%d\n", port); err != nil {
			return nil, fmt.Errorf("telling seeder %s to dial transmission: %w", s.Name, err)
		}
	}
	deadline := time.Now().Add(e.timeout)
	for {
		if _, err := os.Stat(marker); err == nil {
			pr.DoneAt = time.Now()
			pr.Stop(10 * time.Second)
			return pr, nil
		}
		if pr.Exited() {
			return nil, fmt.Errorf("%s exited (%v) before finishing: %s", tag, pr.Err, pr.Out.Tail(2000))
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: %w after %s: %s", tag, ErrTimeout, e.timeout, lastLine(pr.Out.Tail(2000)))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// startLTSeeder starts libtorrent seeder i on the complete payload and
// waits until it has checked the data.
func (e *env) startLTSeeder(tag string, ready time.Duration) (*proc, error) {
	port, err := testutil.FreePort()
	if err != nil {
		return nil, err
	}
	pr, err := startProc(tag, e.work, e.logDir, e.ltArgs("seed", filepath.Dir(e.payload), port)...)
	if err != nil {
		return nil, err
	}
	if err := pr.WaitFor("READY", ready); err != nil {
		pr.Kill()
		return nil, err
	}
	return pr, nil
}

// startSeeder starts client as a seeder of the complete payload and waits
// until it is seeding.
func (e *env) startSeeder(client string, run int, ready time.Duration) (*proc, error) {
	tag := fmt.Sprintf("%s-seed-run%d", client, run)
	switch client {
	case clientLibtorrent:
		return e.startLTSeeder(tag, ready)
	case clientGobit:
		port, err := testutil.FreePort()
		if err != nil {
			return nil, err
		}
		pr, err := startProc(tag, e.work, e.logDir, e.gobitArgs(tag, filepath.Dir(e.payload), port, true)...)
		if err != nil {
			return nil, err
		}
		if err := pr.WaitFor("seeding;", ready); err != nil {
			pr.Kill()
			return nil, err
		}
		return pr, nil
	}
	return nil, fmt.Errorf("seed mode: unknown client %q (want gobit or libtorrent)", client)
}
