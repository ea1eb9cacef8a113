package interop

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// transmission drives transmission-daemon through its JSON-RPC interface.
//
// Transmission 3.00 never dials peers on 127.x (loopback is a "martian"
// address to it) but accepts them, so gobit must always dial it: as a
// seeder it is found through the tracker by gobit the leecher, and as a
// leecher it must announce before gobit the seeder starts, so that gobit's
// first announce returns its address.
var transmission = transmissionClient("transmission", trEncryptionPreferred)

// Transmission's settings.json "encryption" values.
const (
	trEncryptionPreferred = 1 // MSE preferred, plaintext accepted
	trEncryptionRequired  = 2
)

// transmissionClient is transmission-daemon with the given "encryption"
// setting.
func transmissionClient(name string, encryption int) peerClient {
	return peerClient{
		name:       name,
		neverDials: true,
		need:       func(t *testing.T) { testutil.NeedProgram(t, "transmission-daemon", "transmission-daemon") },
		seed: func(t *testing.T, sw *swarm) {
			tr := startTransmission(t, name+" seeder", sw.dir, encryption)
			tr.add(t, sw, false)
			tr.waitComplete(t, sw.hash(), startTimeout)
		},
		leech: func(t *testing.T, sw *swarm, magnet bool, out string) func() {
			tr := startTransmission(t, name+" leecher", out, encryption)
			tr.add(t, sw, magnet)
			return func() {
				t.Helper()
				tr.waitComplete(t, sw.hash(), transferTimeout)
			}
		},
	}
}

// trDaemon is a running transmission-daemon and its RPC endpoint.
type trDaemon struct {
	proc      *process
	rpcURL    string
	sessionID string // X-Transmission-Session-Id, learned from a 409 answer
	client    *http.Client
}

// trSettings is the daemon's settings.json: RPC and peers on 127.0.0.1
// without authentication, DHT, LPD, uTP and port forwarding off, no queues
// or ratio limits that could stop a transfer, and the given encryption
// setting.
func trSettings(downloadDir string, rpcPort, peerPort, encryption int) map[string]any {
	return map[string]any{
		"download-dir":                downloadDir,
		"incomplete-dir-enabled":      false,
		"watch-dir-enabled":           false,
		"start-added-torrents":        true,
		"rpc-enabled":                 true,
		"rpc-bind-address":            "127.0.0.1",
		"rpc-port":                    rpcPort,
		"rpc-authentication-required": false,
		"rpc-whitelist-enabled":       false,
		"rpc-host-whitelist-enabled":  false,
		"bind-address-ipv4":           "127.0.0.1",
		"bind-address-ipv6":           "::1",
		"peer-port":                   peerPort,
		"peer-port-random-on-start":   false,
		"port-forwarding-enabled":     false,
		"encryption":                  encryption,
		"utp-enabled":                 false,
		"dht-enabled":                 false,
		"pex-enabled":                 false,
		"lpd-enabled":                 false,
		"blocklist-enabled":           false,
		"ratio-limit-enabled":         false,
		"idle-seeding-limit-enabled":  false,
		"speed-limit-up-enabled":      false,
		"speed-limit-down-enabled":    false,
		"alt-speed-enabled":           false,
		"queue-stalled-enabled":       false,
		"download-queue-enabled":      false,
		"seed-queue-enabled":          false,
		"message-level":               2,
		"umask":                       18,
	}
}

// startTransmission starts transmission-daemon in the foreground with a
// fresh configuration directory, saving into downloadDir, with the given
// "encryption" setting, and waits until its RPC answers.
func startTransmission(t *testing.T, name, downloadDir string, encryption int) *trDaemon {
	return startTransmissionWith(t, name, downloadDir, func(st map[string]any) { st["encryption"] = encryption })
}

// startTransmissionWith is startTransmission with settings changed by
// change (when not nil) before the daemon starts; "encryption" is 1
// (preferred) unless change sets it.
func startTransmissionWith(t *testing.T, name, downloadDir string, change func(map[string]any)) *trDaemon {
	t.Helper()
	bin := testutil.NeedProgram(t, "transmission-daemon", "transmission-daemon")
	conf := t.TempDir()
	rpcPort, peerPort := freePort(t), freePort(t)
	st := trSettings(downloadDir, rpcPort, peerPort, 1)
	if change != nil {
		change(st)
	}
	settings, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(conf, "settings.json"), settings, 0o600); err != nil {
		t.Fatal(err)
	}
	tr := &trDaemon{
		proc:   startProcess(t, name, conf, bin, "-f", "-g", conf),
		rpcURL: fmt.Sprintf("http://127.0.0.1:%d/transmission/rpc", rpcPort),
		client: &http.Client{Timeout: 10 * time.Second},
	}
	testutil.WaitForErr(t, startTimeout, name+" RPC", func() (bool, error) {
		if tr.proc.exited() {
			return false, fmt.Errorf("exited: %v", tr.proc.err)
		}
		return tr.call("session-get", nil, nil) == nil, nil
	})
	return tr
}

// call makes one RPC call; result, when not nil, receives the "arguments"
// of the answer.
func (tr *trDaemon) call(method string, args, result any) error {
	body, err := json.Marshal(map[string]any{"method": method, "arguments": args})
	if err != nil {
		return err
	}
	for attempt := 0; attempt < 2; attempt++ {
		req, err := http.NewRequest(http.MethodPost, tr.rpcURL, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("X-Transmission-Session-Id", tr.sessionID)
		resp, err := tr.client.Do(req)
		if err != nil {
			return fmt.Errorf("rpc %s: %w", method, err)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("rpc %s: %w", method, err)
		}
		if resp.StatusCode == http.StatusConflict {
			tr.sessionID = resp.Header.Get("X-Transmission-Session-Id")
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("rpc %s: %s: %s", method, resp.Status, data)
		}
		var answer struct {
			Result    string          `json:"result"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if err := json.Unmarshal(data, &answer); err != nil {
			return fmt.Errorf("rpc %s: %w", method, err)
		}
		if answer.Result != "success" {
			return fmt.Errorf("rpc %s: %s", method, answer.Result)
		}
		if result != nil {
			return json.Unmarshal(answer.Arguments, result)
		}
		return nil
	}
	return fmt.Errorf("rpc %s: no session id accepted", method)
}

// add adds the swarm's torrent, as a magnet or as .torrent data.
func (tr *trDaemon) add(t *testing.T, sw *swarm, magnet bool) {
	t.Helper()
	args := map[string]any{"metainfo": base64.StdEncoding.EncodeToString(sw.torrent)}
	if magnet {
		args = map[string]any{"filename": sw.magnet}
	}
	var res struct {
		Added *struct {
			HashString string `json:"hashString"`
		} `json:"torrent-added"`
	}
	if err := tr.call("torrent-add", args, &res); err != nil {
		t.Fatalf("%s: %v", tr.proc.name, err)
	}
	if res.Added == nil || !strings.EqualFold(res.Added.HashString, sw.hash()) {
		t.Fatalf("%s: torrent-add answered %+v, want hash %s", tr.proc.name, res.Added, sw.hash())
	}
}

// trTorrent is the part of torrent-get the tests read.
type trTorrent struct {
	Status          int     `json:"status"` // 0 stopped, 1-2 checking, 3-4 downloading, 5-6 seeding
	PercentDone     float64 `json:"percentDone"`
	LeftUntilDone   int64   `json:"leftUntilDone"`
	MetadataPercent float64 `json:"metadataPercentComplete"`
	Error           int     `json:"error"`
	ErrorString     string  `json:"errorString"`
	PeersConnected  int     `json:"peersConnected"`
	UploadedEver    int64   `json:"uploadedEver"`
	DownloadedEver  int64   `json:"downloadedEver"`
}

// get returns the torrent's state.
func (tr *trDaemon) get(hash string) (trTorrent, error) {
	var res struct {
		Torrents []trTorrent `json:"torrents"`
	}
	fields := []string{"status", "percentDone", "leftUntilDone", "metadataPercentComplete", "error",
		"errorString", "peersConnected", "uploadedEver", "downloadedEver"}
	if err := tr.call("torrent-get", map[string]any{"ids": []string{hash}, "fields": fields}, &res); err != nil {
		return trTorrent{}, err
	}
	if len(res.Torrents) != 1 {
		return trTorrent{}, errors.New("torrent-get: torrent not found")
	}
	return res.Torrents[0], nil
}

// waitComplete waits until the torrent has all its data, verified: complete
// metadata, nothing left, and not checking.
func (tr *trDaemon) waitComplete(t *testing.T, hash string, timeout time.Duration) {
	t.Helper()
	var last trTorrent
	defer func() {
		if t.Failed() {
			t.Logf("%s: last torrent state %+v", tr.proc.name, last)
		}
	}()
	testutil.WaitForErr(t, timeout, tr.proc.name+" to complete "+hash, func() (bool, error) {
		if tr.proc.exited() {
			return false, fmt.Errorf("exited: %v", tr.proc.err)
		}
		var err error
		if last, err = tr.get(hash); err != nil {
			return false, err
		}
		if last.Error == 3 { // local error (tracker errors are 1 and 2)
			return false, fmt.Errorf("error: %s", last.ErrorString)
		}
		return last.MetadataPercent == 1 && last.LeftUntilDone == 0 && last.PercentDone == 1 &&
			last.Status >= 5, nil
	})
}
