package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gobit/gobit/bench/internal/benchkit"
	"github.com/gobit/gobit/internal/testutil"
)

// startTracker runs opentracker on a free 127.0.0.1 port (HTTP and UDP)
// with hash on its whitelist and returns the process and the HTTP announce
// URL. Debian's opentracker is whitelist-only and IPv4-only; as root it
// switches to "nobody" and chroots to its directory, so the directory and
// files are world-readable. It mirrors internal/testutil.StartOpentracker,
// which needs a testing.TB.
func startTracker(dir, logDir string, hash [20]byte) (*proc, string, error) {
	if err := benchkit.WriteTrackerFiles(dir, hash, "127.0.0.1"); err != nil {
		return nil, "", err
	}
	var lastErr error
	// A freed port can be taken before opentracker binds it: try a few.
	for range 5 {
		port, err := testutil.FreePort()
		if err != nil {
			return nil, "", err
		}
		pr, err := startProc("opentracker", dir, logDir, benchkit.TrackerArgv(dir, "127.0.0.1", port)...)
		if err != nil {
			return nil, "", err
		}
		base := "http://127.0.0.1:" + strconv.Itoa(port)
		if lastErr = benchkit.WaitHTTP(pr, base+"/stats", "opentracker", 10*time.Second); lastErr == nil {
			return pr, base + "/announce", nil
		}
		pr.Kill()
	}
	return nil, "", fmt.Errorf("opentracker: %w", lastErr)
}

// waitListening waits until something accepts TCP connections on
// 127.0.0.1:port, the process exits or timeout passes.
func waitListening(pr *proc, port int, timeout time.Duration) error {
	return benchkit.WaitListening(pr, "127.0.0.1:"+strconv.Itoa(port), nil, timeout)
}
