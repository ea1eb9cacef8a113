package transmission

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// rpcCall posts one classic call with the session id handshake.
func rpcCall(t *testing.T, s *server, method string, args any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"method": method, "arguments": args})
	c := &http.Client{Timeout: 30 * time.Second}
	id := ""
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, s.url(), bytes.NewReader(body))
		req.Header.Set("X-Transmission-Session-Id", id)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusConflict {
			id = resp.Header.Get("X-Transmission-Session-Id")
			continue
		}
		var out map[string]any
		if err := json.Unmarshal(data, &out); err != nil || out["result"] != "success" {
			t.Fatalf("%s: %s: %v %s", s.kind, method, err, data)
		}
		args, _ := out["arguments"].(map[string]any)
		return args
	}
	t.Fatalf("%s: %s: no session id", s.kind, method)
	return nil
}

// torrentFields are the torrent-get fields Transmission 3 and 4 clients
// ask for (transmission-remote, Tremotesf, transmission-remote-gtk, Flood,
// Sonarr, @ctrl/transmission), under their classic names.
var torrentFields = []string{
	"activityDate", "addedDate", "bandwidthPriority", "comment", "corruptEver", "creator", "dateCreated",
	"desiredAvailable", "doneDate", "downloadDir", "downloadedEver", "downloadLimit", "downloadLimited",
	"editDate", "error", "errorString", "eta", "etaIdle", "files", "fileStats", "hashString", "haveUnchecked",
	"haveValid", "honorsSessionLimits", "id", "isFinished", "isPrivate", "isStalled", "labels", "leftUntilDone",
	"magnetLink", "manualAnnounceTime", "maxConnectedPeers", "metadataPercentComplete", "name", "peer-limit",
	"peers", "peersConnected", "peersFrom", "peersGettingFromUs", "peersSendingToUs", "percentDone", "pieces",
	"pieceCount", "pieceSize", "priorities", "queuePosition", "rateDownload", "rateUpload", "recheckProgress",
	"secondsDownloading", "secondsSeeding", "seedIdleLimit", "seedIdleMode", "seedRatioLimit", "seedRatioMode",
	"sizeWhenDone", "startDate", "status", "torrentFile", "totalSize", "trackers", "trackerStats", "uploadedEver",
	"uploadLimit", "uploadLimited", "uploadRatio", "wanted", "webseeds", "webseedsSendingToUs",
	// Transmission 4 (transmission-daemon 3.00 answers them as 0).
	"file-count", "percentComplete", "primary-mime-type", "trackerList", "group",
}

// newerFields are fields transmission-daemon 3.00 does not know.
var newerFields = map[string]bool{"file-count": true, "percentComplete": true, "primary-mime-type": true, "trackerList": true, "group": true}

// shape describes a JSON value's type, and the shapes inside arrays of
// objects and objects.
func shape(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		if len(x) == 0 {
			return "array"
		}
		return "array of " + shape(x[0])
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// TestTorrentFieldsMatchTransmission asks both servers for every field of
// the same seeding torrent and compares what they return:
// every field transmission-daemon answers, gobit answers with the same
// JSON type, and the same value where the value is the torrent's own.
func TestTorrentFieldsMatchTransmission(t *testing.T) {
	f := newFixture(t, "fields")
	got := map[string]map[string]any{}
	for _, kind := range kinds {
		s := start(t, kind, "", "")
		f.copyData(t, s.dir)
		rpcCall(t, s, "torrent-add", map[string]any{"metainfo": base64.StdEncoding.EncodeToString(f.torrent)})
		rpcCall(t, s, "torrent-set", map[string]any{"ids": []string{f.hash}, "labels": []string{"x"}})
		var tor map[string]any
		testutil.WaitFor(t, 60*time.Second, kind+" seeding", func() bool {
			ts := rpcCall(t, s, "torrent-get", map[string]any{"ids": []string{f.hash}, "fields": torrentFields})["torrents"].([]any)
			tor = ts[0].(map[string]any)
			return tor["percentDone"] == 1.0 && tor["status"] == 6.0
		})
		got[kind] = tor
		tor["downloadDir"] = strings.TrimPrefix(tor["downloadDir"].(string), s.dir) // per server
	}
	want, have := got["transmission"], got["gobit"]
	for k, v := range want {
		if newerFields[k] {
			continue
		}
		hv, ok := have[k]
		if !ok {
			t.Errorf("gobit does not answer %s (transmission: %v)", k, v)
			continue
		}
		if shape(hv) != shape(v) {
			t.Errorf("%s: gobit sends %s (%v), transmission %s (%v)", k, shape(hv), hv, shape(v), v)
		}
	}
	for _, k := range []string{"name", "hashString", "totalSize", "sizeWhenDone", "leftUntilDone", "percentDone", "pieceCount",
		"pieceSize", "pieces", "wanted", "priorities", "status", "error", "isPrivate", "downloadDir", "labels", "eta", "haveValid", "files", "fileStats"} {
		a, _ := json.Marshal(only(have[k], want[k]))
		b, _ := json.Marshal(want[k])
		if string(a) != string(b) {
			t.Errorf("%s: gobit %s, transmission %s", k, a, b)
		}
	}
}

// only returns v with the objects in it (in arrays) cut down to the keys
// like has, so that fields of newer Transmission releases gobit sends
// (files[].beginPiece) do not count as a difference.
func only(v, like any) any {
	va, ok1 := v.([]any)
	la, ok2 := like.([]any)
	if !ok1 || !ok2 || len(va) != len(la) {
		return v
	}
	out := make([]any, len(va))
	for i := range va {
		vo, ok1 := va[i].(map[string]any)
		lo, ok2 := la[i].(map[string]any)
		if !ok1 || !ok2 {
			out[i] = va[i]
			continue
		}
		cut := map[string]any{}
		for k := range lo {
			if x, ok := vo[k]; ok {
				cut[k] = x
			}
		}
		out[i] = cut
	}
	return out
}

// TestSessionFieldsMatchTransmission compares session-get and
// session-stats: every value transmission-daemon answers, gobit answers
// with the same JSON type.
func TestSessionFieldsMatchTransmission(t *testing.T) {
	got := map[string][2]map[string]any{}
	for _, kind := range kinds {
		s := start(t, kind, "", "")
		got[kind] = [2]map[string]any{rpcCall(t, s, "session-get", nil), rpcCall(t, s, "session-stats", nil)}
	}
	for i, method := range []string{"session-get", "session-stats"} {
		want, have := got["transmission"][i], got["gobit"][i]
		for k, v := range want {
			hv, ok := have[k]
			if !ok {
				t.Errorf("%s: gobit does not answer %s (transmission: %v)", method, k, v)
				continue
			}
			if shape(hv) != shape(v) {
				t.Errorf("%s: %s: gobit sends %s (%v), transmission %s (%v)", method, k, shape(hv), hv, shape(v), v)
			}
		}
	}
}
