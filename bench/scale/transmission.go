package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/gobit/gobit/bench/internal/benchkit"
)

// transmissionDaemon drives transmission-daemon through its RPC.
type transmissionDaemon struct {
	dir, logDir string
	rpc         string
	proc        *benchkit.Proc
	client      *http.Client
	runs        int
	peer        int // the peer port of the current run
}

func newTransmission(dir, logDir string) *transmissionDaemon {
	return &transmissionDaemon{dir: dir, logDir: logDir,
		client: &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 32}}}
}

func (t *transmissionDaemon) name() string        { return "transmission" }
func (t *transmissionDaemon) pid() int            { return t.proc.Cmd.Process.Pid }
func (t *transmissionDaemon) downloadDir() string { return filepath.Join(t.dir, "downloads") }
func (t *transmissionDaemon) logPath() string     { return filepath.Join(t.dir, "transmission.log") }
func (t *transmissionDaemon) goroutines() int     { return -1 }

func (t *transmissionDaemon) version() string {
	out, err := benchkit.RunTimeout(exec.Command("transmission-daemon", "--version"), time.Minute)
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	return firstLine(out)
}

func (t *transmissionDaemon) settings() string {
	return "DHT, LPD, PEX, uTP, port forwarding off; download and seed queues off (every torrent active); " +
		"no ratio or idle limits, no speed limits; peer-limit-global 2000, peer-limit-per-torrent 50, " +
		"cache-size-mb 32 (default 4); bound to 127.0.0.1; RPC auth and whitelists off; message-level 2 (info). " +
		"Transmission 3.00 lowers its open-file limit to 1024 itself, verifies every torrent added " +
		"whose files exist (with a 100 ms pause per torrent) whatever the add's arguments, and has no batch add"
}

func (t *transmissionDaemon) start() error {
	cfg := filepath.Join(t.dir, "config")
	for _, d := range []string{cfg, t.downloadDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	rpcPort, peerPort, err := twoPorts()
	if err != nil {
		return err
	}
	t.peer = peerPort
	settings := map[string]any{
		"rpc-enabled": true, "rpc-port": rpcPort, "rpc-bind-address": "127.0.0.1",
		"rpc-authentication-required": false, "rpc-whitelist-enabled": false, "rpc-host-whitelist-enabled": false,
		"peer-port": peerPort, "bind-address-ipv4": "127.0.0.1", "port-forwarding-enabled": false,
		"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false, "utp-enabled": false,
		"download-dir": t.downloadDir(), "incomplete-dir-enabled": false,
		"download-queue-enabled": false, "seed-queue-enabled": false, "queue-stalled-enabled": false,
		"ratio-limit-enabled": false, "idle-seeding-limit-enabled": false,
		"speed-limit-up-enabled": false, "speed-limit-down-enabled": false,
		"peer-limit-global": 2000, "peer-limit-per-torrent": 50, "cache-size-mb": 32,
		"message-level": 2, "start-added-torrents": true,
	}
	b, _ := json.MarshalIndent(settings, "", "  ")
	if err := os.WriteFile(filepath.Join(cfg, "settings.json"), b, 0o644); err != nil {
		return err
	}
	t.runs++
	t.rpc = fmt.Sprintf("http://127.0.0.1:%d/transmission/rpc", rpcPort)
	t.proc, err = benchkit.StartProc(fmt.Sprintf("transmission-%d", t.runs), t.dir, t.logDir,
		"transmission-daemon", "-f", "-g", cfg, "-e", t.logPath())
	if err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := transmissionCall(t.client, t.rpc, "session-get", nil, nil); err == nil {
			return nil
		} else if time.Now().After(deadline) || t.proc.Exited() {
			return fmt.Errorf("transmission-daemon RPC: %w (%s)", err, t.proc.Out.Tail(500))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (t *transmissionDaemon) add(it item) error {
	_, err := transmissionCall(t.client, t.rpc, "torrent-add", map[string]any{
		"metainfo": base64.StdEncoding.EncodeToString(it.Torrent), "download-dir": t.downloadDir(), "paused": false,
	}, nil)
	return err
}

func (t *transmissionDaemon) status() (st daemonStatus, err error) {
	var out struct {
		Torrents []struct {
			Status      int     `json:"status"`
			PercentDone float64 `json:"percentDone"`
		} `json:"torrents"`
	}
	if _, err := transmissionCall(t.client, t.rpc, "torrent-get", map[string]any{"fields": []string{"id", "status", "percentDone"}}, &out); err != nil {
		return st, err
	}
	st.Listed = len(out.Torrents)
	for _, x := range out.Torrents {
		if x.Status == 1 || x.Status == 2 { // check-wait, checking
			continue
		}
		st.Settled++
		if x.PercentDone == 1 {
			st.Complete++
		}
	}
	return st, nil
}

func (t *transmissionDaemon) listRoutes() []listRoute {
	return []listRoute{{"transmission torrent-get", func() (int, error) { return transmissionList(t.client, t.rpc, "", "") }}}
}

func (t *transmissionDaemon) stop(timeout time.Duration) (time.Duration, error) {
	return stopProc(t.proc, timeout)
}

// listFields are the fields a Transmission user interface (the web UI,
// transmission-remote-gtk) asks for in its periodic list.
var listFields = []string{"id", "name", "status", "error", "errorString", "percentDone", "totalSize", "sizeWhenDone",
	"leftUntilDone", "rateDownload", "rateUpload", "uploadRatio", "eta", "peersConnected", "peersSendingToUs",
	"peersGettingFromUs", "queuePosition", "addedDate", "doneDate", "downloadDir", "labels", "isFinished", "isStalled",
	"recheckProgress", "metadataPercentComplete", "uploadedEver", "downloadedEver", "hashString", "trackers"}

// transmissionList makes one full torrent-get as a UI does and returns
// the answer's size.
func transmissionList(c *http.Client, rpc, user, pass string) (int, error) {
	return transmissionCall(c, rpc, "torrent-get", map[string]any{"fields": listFields}, nil)
}

// sessionIDs remembers each RPC URL's X-Transmission-Session-Id.
var sessionIDs sync.Map

// transmissionCall makes one RPC call, doing the session-id handshake,
// decodes the arguments into out (when not nil) and returns the answer's
// size.
func transmissionCall(c *http.Client, rpc, method string, args any, out any) (int, error) {
	body, _ := json.Marshal(map[string]any{"method": method, "arguments": args})
	for attempt := 0; attempt < 2; attempt++ {
		req, _ := http.NewRequest("POST", rpc, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if id, ok := sessionIDs.Load(rpc); ok {
			req.Header.Set("X-Transmission-Session-Id", id.(string))
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, err
		}
		if resp.StatusCode == http.StatusConflict {
			sessionIDs.Store(rpc, resp.Header.Get("X-Transmission-Session-Id"))
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("%s: %s: %.200s", method, resp.Status, data)
		}
		var env struct {
			Result    string          `json:"result"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if err := json.Unmarshal(data, &env); err != nil {
			return 0, fmt.Errorf("%s: %w", method, err)
		}
		if env.Result != "success" {
			return 0, fmt.Errorf("%s: %s", method, env.Result)
		}
		if out != nil {
			if err := json.Unmarshal(env.Arguments, out); err != nil {
				return 0, fmt.Errorf("%s: %w", method, err)
			}
		}
		return len(data), nil
	}
	return 0, fmt.Errorf("%s: session-id handshake failed", method)
}

func (t *transmissionDaemon) peerPort() int { return t.peer }
