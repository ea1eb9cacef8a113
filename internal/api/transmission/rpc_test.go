package transmission

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/api/creds"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// rig is a session served by the RPC handler on a loopback server.
type rig struct {
	t    *testing.T
	h    *Handler
	srv  *httptest.Server
	dir  string
	sess *session.Session
}

func newRig(t *testing.T, c creds.Credentials) *rig {
	t.Helper()
	dir := t.TempDir()
	s, err := session.New(session.Config{DownloadDir: dir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	h := New(s, Options{Credentials: c, Version: "test"})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &rig{t: t, h: h, srv: srv, dir: dir, sess: s}
}

// post sends body with the session id and returns the status and body.
func (g *rig) post(body string, hdr map[string]string) (int, http.Header, []byte) {
	g.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.srv.URL+"/transmission/rpc", strings.NewReader(body))
	req.Header.Set(SessionIDHeader, g.h.SessionID())
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := g.srv.Client().Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data
}

// call runs a classic call and decodes its answer.
func (g *rig) call(method string, args any) (result string, arguments map[string]any) {
	g.t.Helper()
	body, _ := json.Marshal(map[string]any{"method": method, "arguments": args})
	code, _, data := g.post(string(body), nil)
	if code != http.StatusOK {
		g.t.Fatalf("%s: HTTP %d: %s", method, code, data)
	}
	var resp struct {
		Result    string         `json:"result"`
		Arguments map[string]any `json:"arguments"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		g.t.Fatalf("%s: %v: %s", method, err, data)
	}
	return resp.Result, resp.Arguments
}

// payload writes a two-file torrent's data into dir and returns the
// .torrent and its hash.
func payload(t *testing.T, dir, name string) ([]byte, string) {
	t.Helper()
	root := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "a.bin"), bytes.Repeat([]byte("a"), 40000), 0o644)
	os.WriteFile(filepath.Join(root, "sub", "b.txt"), bytes.Repeat([]byte("b"), 30000), 0o644)
	data, mi, err := metainfo.Create(metainfo.CreateOptions{Path: root, PieceLength: 16384, Trackers: [][]string{{"http://127.0.0.1:1/announce"}}})
	if err != nil {
		t.Fatal(err)
	}
	return data, mi.InfoHash.String()
}

func TestHandshake(t *testing.T) {
	g := newRig(t, creds.Credentials{})
	code, hdr, body := g.post(`{"method":"session-get"}`, map[string]string{SessionIDHeader: ""})
	if code != http.StatusConflict || hdr.Get(SessionIDHeader) != g.h.SessionID() || g.h.SessionID() == "" {
		t.Fatalf("no session id: HTTP %d, header %q, body %s", code, hdr.Get(SessionIDHeader), body)
	}
	code, _, _ = g.post(`{"method":"session-get"}`, map[string]string{SessionIDHeader: "wrong"})
	if code != http.StatusConflict {
		t.Fatalf("wrong session id: HTTP %d, want 409", code)
	}
	code, _, body = g.post(`{"method":"session-get","tag":77}`, nil)
	var resp map[string]any
	json.Unmarshal(body, &resp)
	if code != http.StatusOK || resp["result"] != "success" || resp["tag"] != 77.0 {
		t.Fatalf("with the id: HTTP %d %s", code, body)
	}
	args := resp["arguments"].(map[string]any)
	if args["session-id"] != g.h.SessionID() || args["rpc-version"] != 17.0 || args["download-dir"] != g.dir {
		t.Fatalf("session-get: %v", args)
	}
}

func TestBasicAuth(t *testing.T) {
	g := newRig(t, creds.Credentials{User: "admin", Password: "secret"})
	for _, auth := range []string{"", "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:nope"))} {
		code, hdr, _ := g.post(`{"method":"session-get"}`, map[string]string{"Authorization": auth})
		if code != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") != `Basic realm="Transmission"` {
			t.Fatalf("auth %q: HTTP %d, WWW-Authenticate %q", auth, code, hdr.Get("WWW-Authenticate"))
		}
	}
	good := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:secret"))
	if code, _, body := g.post(`{"method":"session-get"}`, map[string]string{"Authorization": good}); code != http.StatusOK {
		t.Fatalf("good credentials: HTTP %d %s", code, body)
	}
	// Unauthenticated clients are not given the session id.
	if _, hdr, _ := g.post(`{}`, map[string]string{"Authorization": "", SessionIDHeader: ""}); hdr.Get(SessionIDHeader) != "" {
		t.Fatal("the session id was given before authentication")
	}
}

func TestErrors(t *testing.T) {
	g := newRig(t, creds.Credentials{})
	if res, _ := g.call("no-such-method", nil); res != methodNotFound {
		t.Fatalf("unknown method: %q", res)
	}
	code, _, body := g.post(`{"method": "session-get",`, nil)
	var pe jsonrpcResponse
	if code != http.StatusBadRequest || json.Unmarshal(body, &pe) != nil || pe.Error == nil || pe.Error.Code != codeParseError {
		t.Fatalf("malformed JSON: HTTP %d %s", code, body)
	}
	if res, _ := g.call("port-test", nil); !strings.Contains(res, "cannot test") {
		t.Fatalf("port-test: %q", res)
	}
	if res, _ := g.call("blocklist-update", nil); !strings.Contains(res, "has no blocklist: start it with --blocklist") {
		t.Fatalf("blocklist-update: %q", res)
	}
	if res, _ := g.call("torrent-add", map[string]any{}); res == "success" {
		t.Fatal("torrent-add without a torrent succeeded")
	}
	if res, _ := g.call("torrent-get", map[string]any{"ids": "bogus-kind", "fields": []string{"id"}}); res != "success" {
		t.Fatalf("torrent-get of an unknown hash: %q", res)
	}
	if res, _ := g.call("torrent-set", map[string]any{"trackerAdd": []string{"http://x/announce"}}); res == "success" {
		t.Fatal("torrent-set trackerAdd claimed success")
	}
	if res, _ := g.call("session-set", map[string]any{"alt-speed-enabled": true}); res == "success" {
		t.Fatal("session-set alt-speed-enabled claimed success")
	}
	// Values sent back unchanged are accepted, unknown ones ignored.
	if res, _ := g.call("session-set", map[string]any{"alt-speed-enabled": false, "dht-enabled": false, "no-such-key": 5}); res != "success" {
		t.Fatalf("session-set of unchanged values: %q", res)
	}
	if res, _ := g.call("free-space", map[string]any{"path": "relative"}); res == "success" {
		t.Fatal("free-space of a relative path succeeded")
	}
}

func TestJSONRPC(t *testing.T) {
	g := newRig(t, creds.Credentials{})
	data, hash := payload(t, g.dir, "jr")
	req := `{"jsonrpc":"2.0","method":"torrent_add","params":{"metainfo":"` + base64.StdEncoding.EncodeToString(data) + `","paused":true},"id":"a1"}`
	code, _, body := g.post(req, nil)
	var resp struct {
		JSONRPC string                     `json:"jsonrpc"`
		Result  map[string]json.RawMessage `json:"result"`
		Error   *jsonrpcError              `json:"error"`
		ID      any                        `json:"id"`
	}
	if code != 200 || json.Unmarshal(body, &resp) != nil || resp.JSONRPC != "2.0" || resp.ID != "a1" || resp.Error != nil {
		t.Fatalf("torrent_add: HTTP %d %s", code, body)
	}
	var added map[string]any
	json.Unmarshal(resp.Result["torrent_added"], &added)
	if added["hash_string"] != hash || added["id"] != 1.0 {
		t.Fatalf("torrent_added: %s", body)
	}
	code, _, body = g.post(`{"jsonrpc":"2.0","method":"torrent_get","params":{"fields":["hash_string","total_size","file_stats","percentDone"],"ids":[1]},"id":7}`, nil)
	if code != 200 || !strings.Contains(string(body), `"hash_string":"`+hash+`"`) || !strings.Contains(string(body), `"total_size":70000`) ||
		!strings.Contains(string(body), `"bytes_completed"`) || !strings.Contains(string(body), `"percent_done"`) || !strings.Contains(string(body), `"id":7`) {
		t.Fatalf("torrent_get: %s", body)
	}
	code, _, body = g.post(`{"jsonrpc":"2.0","method":"no_such","id":8}`, nil)
	if code != 200 || !strings.Contains(string(body), `"code":-32601`) {
		t.Fatalf("unknown method: %s", body)
	}
	code, _, body = g.post(`{"jsonrpc":"1.0","method":"session_get","id":9}`, nil)
	if code != 200 || !strings.Contains(string(body), `"code":-32600`) {
		t.Fatalf("wrong version: %s", body)
	}
	// A notification is not answered; a batch is answered in order.
	if code, _, body = g.post(`{"jsonrpc":"2.0","method":"session_stats"}`, nil); code != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("notification: HTTP %d %s", code, body)
	}
	code, _, body = g.post(`[{"jsonrpc":"2.0","method":"session_get","params":{"fields":["rpc_version","speed_limit_down"]},"id":1},{"jsonrpc":"2.0","method":"port_test","id":2}]`, nil)
	var batch []map[string]any
	if code != 200 || json.Unmarshal(body, &batch) != nil || len(batch) != 2 {
		t.Fatalf("batch: HTTP %d %s", code, body)
	}
	if r := batch[0]["result"].(map[string]any); r["rpc_version"] != 18.0 || r["speed_limit_down"] == nil || len(r) != 2 {
		t.Fatalf("batch session_get: %v", batch[0])
	}
	if batch[1]["error"] == nil {
		t.Fatalf("batch port_test: %v", batch[1])
	}
}

func TestTorrentLifecycle(t *testing.T) {
	g := newRig(t, creds.Credentials{})
	data, hash := payload(t, g.dir, "life")
	res, args := g.call("torrent-add", map[string]any{"metainfo": base64.StdEncoding.EncodeToString(data), "labels": []string{"tv"}})
	if res != "success" || args["torrent-added"] == nil {
		t.Fatalf("torrent-add: %q %v", res, args)
	}
	res, args = g.call("torrent-add", map[string]any{"metainfo": base64.StdEncoding.EncodeToString(data)})
	if dup, _ := args["torrent-duplicate"].(map[string]any); res != "success" || dup["hashString"] != hash || dup["id"] != 1.0 {
		t.Fatalf("duplicate: %q %v", res, args)
	}
	magnet := "magnet:?xt=urn:btih:" + strings.Repeat("ab", 20) + "&dn=m"
	if res, _ = g.call("torrent-add", map[string]any{"filename": magnet, "paused": true}); res != "success" {
		t.Fatalf("magnet: %q", res)
	}
	get := func(ids any, fields ...string) []map[string]any {
		t.Helper()
		res, args := g.call("torrent-get", map[string]any{"ids": ids, "fields": fields})
		if res != "success" {
			t.Fatalf("torrent-get: %q", res)
		}
		var out []map[string]any
		b, _ := json.Marshal(args["torrents"])
		json.Unmarshal(b, &out)
		return out
	}
	testutil.WaitFor(t, 20*time.Second, "the torrent to seed", func() bool {
		ts := get([]any{hash}, "status", "percentDone")
		return len(ts) == 1 && ts[0]["status"] == 6.0 && ts[0]["percentDone"] == 1.0
	})
	all := get(nil, fieldNames()...)
	if len(all) != 2 || all[0]["id"] != 1.0 || all[1]["id"] != 2.0 {
		t.Fatalf("torrents: %v", all)
	}
	tor := all[0]
	for k, want := range map[string]any{
		"name": "life", "totalSize": 70000.0, "sizeWhenDone": 70000.0, "leftUntilDone": 0.0, "downloadDir": g.dir,
		"pieceCount": 5.0, "pieceSize": 16384.0, "file-count": 2.0, "error": 0.0, "isPrivate": false, "queuePosition": 0.0,
		"pieces": base64.StdEncoding.EncodeToString([]byte{0xf8}), "trackerList": "http://127.0.0.1:1/announce",
	} {
		if tor[k] != want {
			t.Errorf("%s = %v, want %v", k, tor[k], want)
		}
	}
	if labels, _ := tor["labels"].([]any); len(labels) != 1 || labels[0] != "tv" {
		t.Errorf("labels = %v", tor["labels"])
	}
	if files, _ := tor["files"].([]any); len(files) != 2 || files[0].(map[string]any)["name"] != "life/a.bin" || files[1].(map[string]any)["beginPiece"] != 2.0 {
		t.Errorf("files = %v", tor["files"])
	}
	if w, _ := tor["wanted"].([]any); len(w) != 2 || w[0] != 1.0 {
		t.Errorf("wanted = %v", tor["wanted"])
	}
	if get([]any{2}, "status")[0]["status"] != 0.0 {
		t.Error("the paused magnet is not stopped")
	}
	// Table format: a header row, then one row per torrent.
	_, args = g.call("torrent-get", map[string]any{"fields": []string{"id", "name"}, "format": "table"})
	if b, _ := json.Marshal(args["torrents"]); string(b) != `[["id","name"],[1,"life"],[2,"m"]]` {
		t.Errorf("table: %s", b)
	}
	// torrent-set: limits, labels, file wanted.
	if res, _ := g.call("torrent-set", map[string]any{"ids": []any{1}, "downloadLimit": 50, "downloadLimited": true, "labels": []string{"a", "b"}, "files-unwanted": []int{1}}); res != "success" {
		t.Fatalf("torrent-set: %q", res)
	}
	tor = get([]any{1}, "downloadLimit", "downloadLimited", "labels", "wanted", "sizeWhenDone")[0]
	if tor["downloadLimit"] != 50.0 || tor["downloadLimited"] != true || len(tor["labels"].([]any)) != 2 || tor["wanted"].([]any)[1] != 0.0 {
		t.Fatalf("after torrent-set: %v", tor)
	}
	// Queue moves.
	if res, _ := g.call("queue-move-top", map[string]any{"ids": []any{2}}); res != "success" {
		t.Fatal(res)
	}
	if q := get([]any{2}, "queuePosition")[0]["queuePosition"]; q != 0.0 {
		t.Fatalf("queue position after move-top: %v", q)
	}
	// Stop, start.
	g.call("torrent-stop", map[string]any{"ids": []any{1}})
	if s := get([]any{1}, "status")[0]["status"]; s != 0.0 {
		t.Fatalf("status after stop: %v", s)
	}
	g.call("torrent-start", map[string]any{"ids": hash})
	testutil.WaitFor(t, 20*time.Second, "the torrent to seed again", func() bool { return get([]any{1}, "status")[0]["status"] == 6.0 })
	// Recently active, then removal.
	_, args = g.call("torrent-get", map[string]any{"ids": "recently-active", "fields": []string{"id"}})
	if args["removed"] == nil {
		t.Fatalf("recently-active has no removed list: %v", args)
	}
	if res, _ := g.call("torrent-remove", map[string]any{"ids": []any{2}}); res != "success" {
		t.Fatal(res)
	}
	_, args = g.call("torrent-get", map[string]any{"ids": "recently-active", "fields": []string{"id"}})
	if b, _ := json.Marshal(args["removed"]); string(b) != "[2]" {
		t.Fatalf("removed = %s", b)
	}
	// Ids are not reused.
	g.call("torrent-add", map[string]any{"filename": magnet, "paused": true})
	if ts := get([]any{hash, strings.Repeat("ab", 20)}, "id"); len(ts) != 2 || ts[1]["id"] != 3.0 {
		t.Fatalf("ids after re-adding: %v", ts)
	}
	// Rename a file, then a folder, then the torrent's top folder (which
	// renames the torrent too).
	res, args = g.call("torrent-rename-path", map[string]any{"ids": []any{1}, "path": "life/sub/b.txt", "name": "B.txt"})
	if res != "success" || args["path"] != "life/sub/b.txt" || args["name"] != "B.txt" || args["id"] != 1.0 {
		t.Fatalf("rename-path of a file: %q %v", res, args)
	}
	if res, _ = g.call("torrent-rename-path", map[string]any{"ids": []any{1}, "path": "life/sub", "name": "Subs"}); res != "success" {
		t.Fatalf("rename-path of a folder: %q", res)
	}
	if res, _ = g.call("torrent-rename-path", map[string]any{"ids": []any{1}, "path": "life", "name": "Life 2"}); res != "success" {
		t.Fatalf("rename-path of the top folder: %q", res)
	}
	tor = get([]any{1}, "name", "files")[0]
	files, _ := tor["files"].([]any)
	if tor["name"] != "Life 2" || len(files) != 2 || files[0].(map[string]any)["name"] != "Life 2/a.bin" || files[1].(map[string]any)["name"] != "Life 2/Subs/B.txt" {
		t.Fatalf("after the renames: %v", tor)
	}
	if b, err := os.ReadFile(filepath.Join(g.dir, "Life 2", "Subs", "B.txt")); err != nil || len(b) != 30000 {
		t.Fatalf("renamed file on disk: %v", err)
	}
	for _, bad := range []map[string]any{
		{"ids": []any{1}, "path": "Life 2/a.bin", "name": "../x"},
		{"ids": []any{1}, "path": "Life 2/a.bin", "name": ""},
		{"ids": []any{1}, "path": "nothing", "name": "x"},
		{"ids": []any{1}, "path": "Life 2/a.bin", "name": "Subs"},
		{"ids": []any{1, 3}, "path": "Life 2/a.bin", "name": "y"},
	} {
		if res, _ := g.call("torrent-rename-path", bad); res == "success" {
			t.Errorf("rename-path %v succeeded", bad)
		}
	}
	if res, _ := g.call("torrent-remove", map[string]any{"ids": []any{1}, "delete-local-data": true}); res != "success" {
		t.Fatal(res)
	}
	if _, err := os.Stat(filepath.Join(g.dir, "Life 2", "a.bin")); !os.IsNotExist(err) {
		t.Fatalf("data not deleted: %v", err)
	}
}

func TestSessionSetAndStats(t *testing.T) {
	g := newRig(t, creds.Credentials{})
	if res, _ := g.call("session-set", map[string]any{"speed-limit-down": 300, "speed-limit-down-enabled": true, "seedRatioLimit": 1.5, "seedRatioLimited": true}); res != "success" {
		t.Fatal(res)
	}
	if st := g.sess.Settings(); st.DownloadLimit != 300*kB || st.RatioLimit != 1.5 {
		t.Fatalf("settings: %+v", st)
	}
	g.call("session-set", map[string]any{"speed-limit-down-enabled": false})
	_, args := g.call("session-get", map[string]any{"fields": []string{"speed-limit-down", "speed-limit-down-enabled"}})
	if g.sess.Settings().DownloadLimit != 0 || args["speed-limit-down"] != 300.0 || args["speed-limit-down-enabled"] != false {
		t.Fatalf("after disabling: %v %+v", args, g.sess.Settings())
	}
	_, args = g.call("session-stats", nil)
	if args["torrentCount"] != 0.0 || args["cumulative-stats"] == nil {
		t.Fatalf("session-stats: %v", args)
	}
	res, args := g.call("free-space", map[string]any{"path": g.dir})
	if res != "success" || args["size-bytes"].(float64) <= 0 || args["total_size"].(float64) < args["size-bytes"].(float64) {
		t.Fatalf("free-space: %q %v", res, args)
	}
}

// fieldNames lists every served field under its classic name.
func fieldNames() []string {
	var out []string
	for _, f := range fieldList {
		out = append(out, f.legacy)
	}
	return out
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{
		"hashString": "hash_string", "peer-limit": "peer_limit", "isUTP": "is_utp", "rateToClient": "rate_to_client",
		"seedRatioLimited": "seed_ratio_limited", "hash_string": "hash_string", "rpc-version": "rpc_version", "size-bytes": "size_bytes",
	} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzDecodeBody(f *testing.F) {
	f.Add([]byte(`{"method":"torrent-get","arguments":{"fields":["id"],"ids":[1,"ab"]},"tag":5}`))
	f.Add([]byte(`{"jsonrpc":"2.0","method":"torrent_set","params":{"files_wanted":[],"ids":"recently_active"},"id":null}`))
	f.Add([]byte(`[{"jsonrpc":"2.0","method":"x","id":1},1,"s",null]`))
	f.Add([]byte(`{"method":5,"arguments":[1]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		reqs, _, err := decodeBody(body)
		if err != nil {
			return
		}
		for _, r := range reqs {
			if r.bad != nil {
				continue
			}
			r.args.ids()
			r.args.indices("files_wanted")
			r.args.strings("fields")
			r.args.boolean("paused")
			r.args.integer("queue_position", 0, 1<<31)
			filePriorities(r.args, 3, func(int) string { return "skip" })
			if b, err := json.Marshal(answer(r, map[string]any{}, nil)); err != nil || !json.Valid(b) {
				t.Fatalf("answer: %v", err)
			}
		}
	})
}
