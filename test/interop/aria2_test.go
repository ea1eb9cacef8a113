package interop

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// aria2 drives aria2c: TCP only, HTTP trackers only (its UDP tracker client
// needs the DHT socket, which is off), no DHT, LPD or PEX, bound to
// 127.0.0.1. As a seeder it hash-checks the existing files first (-V); as a
// leecher it exits 0 once the download is complete (--seed-time=0).
var aria2 = aria2Client("aria2")

// aria2Client is aria2c run with extra options (such as
// --bt-require-crypto=true).
func aria2Client(name string, extra ...string) peerClient {
	return peerClient{
		name: name,
		need: func(t *testing.T) { testutil.NeedProgram(t, "aria2c", "aria2") },
		seed: func(t *testing.T, sw *swarm) {
			p := startAria2(t, name+" seeder", sw.dir, append(slices.Clone(extra), "--seed-ratio=0.0", "-V", sw.torrentPath)...)
			p.waitOutput(t, "listening on TCP port", startTimeout)
		},
		leech: func(t *testing.T, sw *swarm, magnet bool, out string) func() {
			src := sw.torrentPath
			if magnet {
				src = sw.magnet
			}
			args := append(slices.Clone(extra), "--seed-time=0", "--file-allocation=none",
				"--bt-save-metadata=false", fmt.Sprintf("--bt-stop-timeout=%d", int(transferTimeout.Seconds())), src)
			p := startAria2(t, name+" leecher", out, args...)
			return func() {
				t.Helper()
				if err := p.waitExit(t, transferTimeout+10*time.Second); err != nil {
					t.Fatalf("aria2 leecher: %v\n%s", err, p.out.Tail(logTail))
				}
				p.waitOutput(t, "Download complete", 0)
			}
		},
	}
}

// startAria2 runs aria2c saving into dir with the options every test needs
// plus args.
func startAria2(t *testing.T, name, dir string, args ...string) *process {
	t.Helper()
	bin := testutil.NeedProgram(t, "aria2c", "aria2")
	base := []string{
		"--no-conf", "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
		"--enable-peer-exchange=false", "--interface=127.0.0.1", "--disable-ipv6=true",
		"--summary-interval=0", "--console-log-level=notice", "--check-certificate=false",
		fmt.Sprintf("--listen-port=%d", freePort(t)), "--dir=" + dir,
	}
	return startProcess(t, name, dir, bin, append(base, args...)...)
}
