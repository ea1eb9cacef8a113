package session_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/api"
	"github.com/gobit/gobit/internal/api/creds"
	"github.com/gobit/gobit/internal/api/qbittorrent"
	"github.com/gobit/gobit/internal/api/transmission"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// TestListsDoNotWaitForABusyLoop: with one torrent's loop blocked, every
// list a user interface polls answers: the session's List, the API's
// torrent list (whole, some fields, a page), the event stream's first
// message, Transmission's torrent-get with the fields of a UI's list and
// qBittorrent's sync/maindata. A list reads each torrent's published
// snapshot and never waits on its loop.
func TestListsDoNotWaitForABusyLoop(t *testing.T) {
	dl := t.TempDir()
	s, err := session.New(session.Config{DownloadDir: dl, DataDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var hashes []string
	for i := range 3 {
		p := filepath.Join(dl, fmt.Sprintf("busy-%d.bin", i))
		if err := os.WriteFile(p, bytes.Repeat([]byte{byte(i + 1)}, 40000), 0o644); err != nil {
			t.Fatal(err)
		}
		data, mi, err := metainfo.Create(metainfo.CreateOptions{Path: p, Trackers: [][]string{{"http://127.0.0.1:1/announce"}}})
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			// The last torrent's loop blocks once its data is checked
			// (the others' checks are over).
			testutil.WaitFor(t, 30*time.Second, "the first torrents to seed", func() bool {
				l := s.List()
				return len(l) == 2 && l[0].State == session.StateSeeding && l[1].State == session.StateSeeding
			})
			release := session.HoldChecks(s)
			defer release()
		}
		if _, err := s.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, mi.InfoHash.String())
	}
	testutil.WaitFor(t, 30*time.Second, "the torrent's loop to block", func() bool {
		buf := make([]byte, 1<<20)
		return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "(*checkLog).checked")
	})
	// A call on the blocked loop waits: the rig works.
	paused := make(chan error, 1)
	go func() { paused <- s.Pause(hashes[2]) }()

	apiSrv := httptest.NewServer(api.NewHandler(s, api.Options{}))
	defer apiSrv.Close()
	tr := transmission.New(s, transmission.Options{Credentials: creds.Credentials{}, Version: "test"})
	trSrv := httptest.NewServer(tr)
	defer trSrv.Close()
	qbSrv := httptest.NewServer(qbittorrent.New(s, qbittorrent.Options{}))
	defer qbSrv.Close()
	client := &http.Client{Timeout: 20 * time.Second}
	get := func(url string) (string, error) {
		resp, err := client.Get(url)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("%s: %s", resp.Status, body)
		}
		return string(body), err
	}
	firstEvent := func() (string, error) {
		resp, err := client.Get(apiSrv.URL + "/api/v1/events")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		buf := make([]byte, 0, 64<<10)
		tmp := make([]byte, 4096)
		for !strings.Contains(string(buf), "\n\n") {
			n, err := resp.Body.Read(tmp)
			buf = append(buf, tmp[:n]...)
			if err != nil {
				return string(buf), err
			}
		}
		return string(buf), nil
	}
	torrentGet := func() (string, error) {
		body, _ := json.Marshal(map[string]any{"method": "torrent-get", "arguments": map[string]any{"fields": []string{
			"id", "name", "status", "error", "errorString", "percentDone", "totalSize", "sizeWhenDone",
			"leftUntilDone", "rateDownload", "rateUpload", "uploadRatio", "eta", "peersConnected", "peersSendingToUs",
			"peersGettingFromUs", "queuePosition", "addedDate", "doneDate", "downloadDir", "labels", "isFinished", "isStalled",
			"recheckProgress", "metadataPercentComplete", "uploadedEver", "downloadedEver", "hashString", "trackers"}}})
		req, _ := http.NewRequest(http.MethodPost, trSrv.URL+"/transmission/rpc", bytes.NewReader(body))
		req.Header.Set(transmission.SessionIDHeader, tr.SessionID())
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		return string(out), err
	}
	lists := []struct {
		name string
		do   func() (string, error)
	}{
		{"session List", func() (string, error) {
			b, err := json.Marshal(s.List())
			return string(b), err
		}},
		{"GET /api/v1/torrents", func() (string, error) { return get(apiSrv.URL + "/api/v1/torrents") }},
		{"GET /api/v1/torrents?fields=", func() (string, error) {
			return get(apiSrv.URL + "/api/v1/torrents?fields=info_hash,name,state,progress")
		}},
		{"GET /api/v1/torrents?offset=1&limit=2", func() (string, error) {
			return get(apiSrv.URL + "/api/v1/torrents?offset=1&limit=2")
		}},
		{"events first message", firstEvent},
		{"transmission torrent-get", torrentGet},
		{"qbittorrent sync/maindata", func() (string, error) { return get(qbSrv.URL + "/api/v2/sync/maindata?rid=0") }},
	}
	for _, l := range lists {
		done := make(chan struct{})
		var out string
		var err error
		go func() {
			defer close(done)
			out, err = l.do()
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: no answer with a torrent's loop busy", l.name)
		}
		if err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		if !strings.Contains(out, hashes[2]) && !strings.Contains(out, "busy-2.bin") {
			t.Errorf("%s: the answer leaves out the busy torrent: %.300s", l.name, out)
		}
	}
	select {
	case err := <-paused:
		t.Fatalf("the pause on the blocked loop returned (%v): the loop was not blocked", err)
	default:
	}
}
