package qbittorrent

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/api/creds"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// env is a session served by the handler on loopback.
type env struct {
	t    testing.TB
	sess *session.Session
	srv  *httptest.Server
	c    *http.Client
	dir  string
}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	dir := t.TempDir()
	dl := filepath.Join(dir, "dl")
	if err := os.MkdirAll(dl, 0o755); err != nil {
		t.Fatal(err)
	}
	sess, err := session.New(session.Config{DownloadDir: dl, DataDir: filepath.Join(dir, "data"), Port: -1, ListenAddr: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	opts.DefaultSavePath = dl
	srv := httptest.NewServer(New(sess, opts))
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &env{t: t, sess: sess, srv: srv, c: &http.Client{Jar: jar, Timeout: 20 * time.Second}, dir: dir}
}

// do sends a request and returns the status and body.
func (e *env) do(method, route string, form url.Values) (int, string) {
	e.t.Helper()
	var body io.Reader
	u := e.srv.URL + Prefix + route
	if method == http.MethodGet && form != nil {
		u += "?" + form.Encode()
	} else if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := e.c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post sends a form and fails the test unless the answer is 200.
func (e *env) post(route string, kv ...string) string {
	e.t.Helper()
	f := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	code, body := e.do(http.MethodPost, route, f)
	if code != http.StatusOK {
		e.t.Fatalf("POST %s %v: %d %s", route, kv, code, body)
	}
	return body
}

// getJSON reads a JSON answer into v.
func (e *env) getJSON(route string, q url.Values, v any) {
	e.t.Helper()
	code, body := e.do(http.MethodGet, route, q)
	if code != http.StatusOK {
		e.t.Fatalf("GET %s?%s: %d %s", route, q.Encode(), code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		e.t.Fatalf("GET %s: %v in %s", route, err, body)
	}
}

// multipartAdd posts torrents/add with fields and .torrent files.
func (e *env) multipartAdd(fields map[string]string, files ...[]byte) (int, string) {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for i, f := range files {
		fw, _ := mw.CreateFormFile("torrents", "t"+string(rune('a'+i))+".torrent")
		fw.Write(f)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+Prefix+"torrents/add", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := e.c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// seedTorrent writes a file of n random bytes into dir and returns its
// .torrent and info hash.
func seedTorrent(t testing.TB, dir, name string, n int) ([]byte, string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, n)
	rand.Read(b)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	raw, mi, err := metainfo.Create(metainfo.CreateOptions{Path: p, PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	return raw, mi.InfoHash.String()
}

func randomMagnet(name string) (string, string) {
	var h [20]byte
	rand.Read(h[:])
	s := hex.EncodeToString(h[:])
	return "magnet:?xt=urn:btih:" + s + "&dn=" + name, s
}

// infoHashes lists the hashes torrents/info answers for q, in order.
func (e *env) infoHashes(q url.Values) []string {
	e.t.Helper()
	var list []map[string]any
	e.getJSON("torrents/info", q, &list)
	out := []string{}
	for _, t := range list {
		out = append(out, t["hash"].(string))
	}
	return out
}

// state returns a torrent's qBittorrent state.
func (e *env) state(hash string) string {
	var list []map[string]any
	e.getJSON("torrents/info", url.Values{"hashes": {hash}}, &list)
	if len(list) != 1 {
		return ""
	}
	return list[0]["state"].(string)
}

func (e *env) waitState(hash, want string) {
	e.t.Helper()
	testutil.WaitFor(e.t, 30*time.Second, hash+" to be "+want, func() bool { return e.state(hash) == want })
}

func TestLoginCookieAndForbidden(t *testing.T) {
	e := newEnv(t, Options{Credentials: creds.Credentials{User: "admin", Password: "pw"}})
	if code, body := e.do(http.MethodGet, "app/version", nil); code != http.StatusForbidden || body != "Forbidden" {
		t.Fatalf("without login: %d %q, want 403 Forbidden", code, body)
	}
	if code, body := e.do(http.MethodGet, "no/such", nil); code != http.StatusForbidden {
		t.Fatalf("unknown route without login: %d %q, want 403", code, body)
	}
	if code, _ := e.do(http.MethodGet, "auth/login", url.Values{"username": {"admin"}, "password": {"pw"}}); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET auth/login: %d, want 405", code)
	}
	if body := e.post("auth/login", "username", "admin", "password", "wrong"); body != "Fails." {
		t.Fatalf("bad password: %q, want Fails.", body)
	}
	if body := e.post("auth/login", "username", "other", "password", "pw"); body != "Fails." {
		t.Fatalf("bad user: %q, want Fails.", body)
	}
	// The login answer's cookie.
	resp, err := http.PostForm(e.srv.URL+Prefix+"auth/login", url.Values{"username": {"admin"}, "password": {"pw"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sc := resp.Header.Get("Set-Cookie")
	if string(b) != "Ok." || !strings.HasPrefix(sc, "SID=") || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Strict") {
		t.Fatalf("login: %q, Set-Cookie %q", b, sc)
	}
	if len(resp.Cookies()[0].Value) < 32 {
		t.Fatalf("SID %q is short", resp.Cookies()[0].Value)
	}
	// With the jar's cookie.
	e.post("auth/login", "username", "admin", "password", "pw")
	if code, body := e.do(http.MethodGet, "app/version", nil); code != 200 || body != AppVersion {
		t.Fatalf("after login: %d %q", code, body)
	}
	if code, body := e.do(http.MethodGet, "app/webapiVersion", nil); code != 200 || body != WebAPIVersion {
		t.Fatalf("webapiVersion: %d %q", code, body)
	}
	if code, _ := e.do(http.MethodGet, "torrents/pause", url.Values{"hashes": {"all"}}); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET of an action: %d, want 405", code)
	}
	if code, _ := e.do(http.MethodGet, "no/such", nil); code != http.StatusNotFound {
		t.Fatalf("unknown route: %d, want 404", code)
	}
	// A forged cookie does not work; logout ends the session.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+Prefix+"app/version", nil)
	req.Header.Set("Cookie", "SID=forged")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged SID: %d, want 403", resp.StatusCode)
	}
	u, _ := url.Parse(e.srv.URL)
	sid := e.c.Jar.Cookies(u)[0].Value
	e.post("auth/logout")
	req, _ = http.NewRequest(http.MethodGet, e.srv.URL+Prefix+"app/version", nil)
	req.Header.Set("Cookie", "SID="+sid)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("SID after logout: %d, want 403", resp.StatusCode)
	}
}

func TestLoginBanAfterFailures(t *testing.T) {
	e := newEnv(t, Options{Credentials: creds.Credentials{Password: "pw"}})
	for range maxAuthFails {
		if body := e.post("auth/login", "username", "x", "password", "bad"); body != "Fails." {
			t.Fatalf("bad login: %q", body)
		}
	}
	code, body := e.do(http.MethodPost, "auth/login", url.Values{"username": {"x"}, "password": {"pw"}})
	if code != http.StatusForbidden || !strings.Contains(body, "banned") {
		t.Fatalf("after %d failures: %d %q, want 403 banned", maxAuthFails, code, body)
	}
}

func TestNoCredentialsAllowsEverything(t *testing.T) {
	e := newEnv(t, Options{})
	if code, body := e.do(http.MethodGet, "app/version", nil); code != 200 || body != AppVersion {
		t.Fatalf("no credentials: %d %q", code, body)
	}
	if body := e.post("auth/login", "username", "any", "password", "thing"); body != "Ok." {
		t.Fatalf("login without credentials: %q", body)
	}
}

func TestBypassLocalAuth(t *testing.T) {
	c := creds.Credentials{User: "admin", Password: "pw"}
	on := New(nil, Options{Credentials: c, BypassLocal: true})
	off := New(nil, Options{Credentials: c})
	for _, tc := range []struct {
		h      *Handler
		remote string
		want   int
	}{
		{on, "127.0.0.1:5555", 200},
		{on, "[::1]:5555", 200},
		{on, "192.0.2.7:5555", 403},
		{on, "[2001:db8::1]:5555", 403},
		{off, "127.0.0.1:5555", 403},
	} {
		req := httptest.NewRequest(http.MethodGet, Prefix+"app/version", nil)
		req.RemoteAddr = tc.remote
		rec := httptest.NewRecorder()
		tc.h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("bypass %v from %s: %d, want %d", tc.h.opts.BypassLocal, tc.remote, rec.Code, tc.want)
		}
	}
}

// TestStateNames checks the state names and status filters against
// qBittorrent's rules for each kind of torrent.
func TestStateNames(t *testing.T) {
	done := session.Status{TotalSize: 10, WantedSize: 10, WantedCompleted: 10}
	part := session.Status{TotalSize: 10, WantedSize: 10, WantedCompleted: 3}
	with := func(st session.Status, f func(*session.Status)) session.Status { f(&st); return st }
	cases := []struct {
		st   session.Status
		want string
	}{
		{with(done, func(s *session.Status) { s.State = session.StateSeeding }), "stalledUP"},
		{with(done, func(s *session.Status) { s.State = session.StateSeeding; s.UploadRate = 5 }), "uploading"},
		{with(done, func(s *session.Status) { s.State = session.StateSeeding; s.Forced = true }), "forcedUP"},
		{with(done, func(s *session.Status) { s.State = session.StateSeeding; s.Finished = true }), "pausedUP"},
		{with(done, func(s *session.Status) { s.State = session.StatePaused }), "pausedUP"},
		{with(done, func(s *session.Status) { s.State = session.StateQueued }), "queuedUP"},
		{with(done, func(s *session.Status) { s.State = session.StateChecking }), "checkingUP"},
		{with(part, func(s *session.Status) { s.State = session.StateDownloading }), "stalledDL"},
		{with(part, func(s *session.Status) { s.State = session.StateDownloading; s.DownloadRate = 9 }), "downloading"},
		{with(part, func(s *session.Status) { s.State = session.StateDownloading; s.Forced = true }), "forcedDL"},
		{with(part, func(s *session.Status) { s.State = session.StatePaused }), "pausedDL"},
		{with(part, func(s *session.Status) { s.State = session.StateQueued }), "queuedDL"},
		{with(part, func(s *session.Status) { s.State = session.StateChecking }), "checkingDL"},
		{with(part, func(s *session.Status) { s.State = session.StateError }), "error"},
		{session.Status{State: session.StateMetadata}, "metaDL"},
		{session.Status{State: session.StatePaused}, "pausedDL"},
	}
	for _, c := range cases {
		if got := state(c.st); got != c.want {
			t.Errorf("%s (rates %d/%d, forced %v): %s, want %s", c.st.State, c.st.DownloadRate, c.st.UploadRate, c.st.Forced, got, c.want)
		}
	}
	filters := map[string][]string{
		"downloading":         {"downloading", "metaDL", "stalledDL", "checkingDL", "pausedDL", "queuedDL", "forcedDL"},
		"seeding":             {"uploading", "stalledUP", "checkingUP", "queuedUP", "forcedUP"},
		"completed":           {"uploading", "stalledUP", "checkingUP", "pausedUP", "queuedUP", "forcedUP"},
		"paused":              {"pausedUP", "pausedDL"},
		"stopped":             {"pausedUP", "pausedDL"},
		"active":              {"downloading", "metaDL", "forcedDL", "uploading", "forcedUP"},
		"stalled":             {"stalledUP", "stalledDL"},
		"stalled_uploading":   {"stalledUP"},
		"stalled_downloading": {"stalledDL"},
		"errored":             {"error"},
		"checking":            {"checkingUP", "checkingDL"},
	}
	all := []string{"error", "uploading", "pausedUP", "queuedUP", "stalledUP", "checkingUP", "forcedUP",
		"downloading", "metaDL", "pausedDL", "queuedDL", "stalledDL", "checkingDL", "forcedDL"}
	for f, want := range filters {
		for _, s := range all {
			if got := matchFilter(f, s, 0, 0); got != slices.Contains(want, s) {
				t.Errorf("filter %s, state %s: %v", f, s, got)
			}
		}
	}
	for _, s := range all {
		if matchFilter("resumed", s, 0, 0) == matchFilter("paused", s, 0, 0) ||
			matchFilter("inactive", s, 0, 0) == matchFilter("active", s, 0, 0) || !matchFilter("all", s, 0, 0) {
			t.Errorf("state %s: complementary filters disagree", s)
		}
	}
	if !matchFilter("active", "stalledDL", 0, 1) {
		t.Error("a stalled download that uploads is active")
	}
}

func TestInfoFiltersOnLiveTorrents(t *testing.T) {
	e := newEnv(t, Options{})
	seedDir := filepath.Join(e.dir, "seed")
	rawA, a := seedTorrent(t, seedDir, "alpha.bin", 100000)
	rawE, ee := seedTorrent(t, seedDir, "echo.bin", 50000)
	rawB, b := testutil.BigTorrent(t, "bravo", 4)
	rawD, d := testutil.BigTorrent(t, "delta", 4)
	magC, c := randomMagnet("charlie")

	if code, body := e.multipartAdd(map[string]string{"savepath": seedDir, "category": "movies", "tags": "hd, new"}, rawA, rawE); body != "Ok." {
		t.Fatalf("add: %d %s", code, body)
	}
	if code, body := e.multipartAdd(map[string]string{"paused": "true", "tags": "new"}, rawB); body != "Ok." {
		t.Fatalf("add paused: %d %s", code, body)
	}
	if code, body := e.multipartAdd(map[string]string{"stopped": "true", "urls": magC}); body != "Ok." {
		t.Fatalf("add magnet: %d %s", code, body)
	}
	if code, body := e.multipartAdd(nil, rawD); body != "Ok." {
		t.Fatalf("add running: %d %s", code, body)
	}
	e.waitState(a, "stalledUP")
	e.waitState(ee, "stalledUP")
	e.post("torrents/pause", "hashes", ee)
	e.waitState(ee, "pausedUP")
	e.waitState(b, "pausedDL")
	e.waitState(c, "pausedDL")
	e.waitState(d, "stalledDL")

	sorted := func(s ...string) []string { slices.Sort(s); return s }
	for filter, want := range map[string][]string{
		"":                    {a, b, c, d, ee},
		"all":                 {a, b, c, d, ee},
		"downloading":         {b, c, d},
		"seeding":             {a},
		"completed":           {a, ee},
		"paused":              {b, c, ee},
		"stopped":             {b, c, ee},
		"resumed":             {a, d},
		"running":             {a, d},
		"active":              {},
		"inactive":            {a, b, c, d, ee},
		"stalled":             {a, d},
		"stalled_uploading":   {a},
		"stalled_downloading": {d},
		"errored":             {},
	} {
		got := sorted(e.infoHashes(url.Values{"filter": {filter}})...)
		if !slices.Equal(got, sorted(want...)) {
			t.Errorf("filter %q: %v, want %v", filter, got, sorted(want...))
		}
	}
	for _, tc := range []struct {
		q    url.Values
		want []string
	}{
		{url.Values{"category": {"movies"}}, sorted(a, ee)},
		{url.Values{"category": {""}}, sorted(b, c, d)},
		{url.Values{"tag": {"hd"}}, sorted(a, ee)},
		{url.Values{"tag": {"new"}}, sorted(a, b, ee)},
		{url.Values{"tag": {""}}, sorted(c, d)},
		{url.Values{"hashes": {a + "|" + strings.ToUpper(c)}}, sorted(a, c)},
		{url.Values{"hashes": {"all"}, "filter": {"paused"}, "category": {"movies"}}, []string{ee}},
	} {
		if got := sorted(e.infoHashes(tc.q)...); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.q.Encode(), got, tc.want)
		}
	}
	// sort, reverse, limit, offset.
	byName := []string{a, b, c, d, ee} // alpha bravo charlie delta echo
	if got := e.infoHashes(url.Values{"sort": {"name"}}); !slices.Equal(got, byName) {
		t.Errorf("sort=name: %v, want %v", got, byName)
	}
	rev := slices.Clone(byName)
	slices.Reverse(rev)
	if got := e.infoHashes(url.Values{"sort": {"name"}, "reverse": {"true"}}); !slices.Equal(got, rev) {
		t.Errorf("reverse: %v, want %v", got, rev)
	}
	if got := e.infoHashes(url.Values{"sort": {"name"}, "limit": {"2"}, "offset": {"1"}}); !slices.Equal(got, byName[1:3]) {
		t.Errorf("limit 2 offset 1: %v, want %v", got, byName[1:3])
	}
	if got := e.infoHashes(url.Values{"sort": {"name"}, "offset": {"-2"}}); !slices.Equal(got, byName[3:]) {
		t.Errorf("offset -2: %v, want %v", got, byName[3:])
	}
	if got := e.infoHashes(url.Values{"sort": {"total_size"}}); got[0] != c || got[1] != ee || got[4] != a {
		t.Errorf("sort=total_size: %v (magnet -1 first, then 50000 … 100000)", got)
	}
	var list []map[string]any
	e.getJSON("torrents/info", url.Values{"hashes": {a}}, &list)
	obj := list[0]
	for k, want := range map[string]any{"size": 100000.0, "total_size": 100000.0, "progress": 1.0, "eta": 8640000.0,
		"category": "movies", "tags": "hd, new", "save_path": seedDir, "content_path": filepath.Join(seedDir, "alpha.bin"),
		"amount_left": 0.0, "completed": 100000.0, "ratio_limit": -2.0, "max_ratio": -1.0, "infohash_v1": a} {
		if obj[k] != want {
			t.Errorf("%s = %#v, want %#v", k, obj[k], want)
		}
	}
	if on := obj["added_on"].(float64); on < float64(time.Now().Add(-time.Hour).Unix()) || on > float64(time.Now().Unix()+1) {
		t.Errorf("added_on %v is not now in Unix seconds", on)
	}
	e.getJSON("torrents/info", url.Values{"hashes": {c}}, &list)
	if list[0]["total_size"] != -1.0 || list[0]["has_metadata"] != false {
		t.Errorf("magnet without metadata: total_size %v has_metadata %v", list[0]["total_size"], list[0]["has_metadata"])
	}
}

func TestSyncMaindataIncrements(t *testing.T) {
	e := newEnv(t, Options{})
	rawB, _ := testutil.BigTorrent(t, "one", 2)
	rawC, c := testutil.BigTorrent(t, "two", 2)
	e.multipartAdd(map[string]string{"paused": "true"}, rawB, rawC)
	var list []map[string]any
	e.getJSON("torrents/info", nil, &list)
	if len(list) != 2 {
		t.Fatalf("%d torrents, want 2", len(list))
	}
	hb := list[0]["hash"].(string)
	if hb == c {
		hb = list[1]["hash"].(string)
	}
	e.waitState(hb, "pausedDL")
	e.waitState(c, "pausedDL")

	full := e.maindata(url.Values{"rid": {"0"}})
	if full["full_update"] != true || len(full["torrents"].(map[string]any)) != 2 {
		t.Fatalf("rid 0: %v", full)
	}
	if _, ok := full["server_state"].(map[string]any)["dl_info_speed"]; !ok {
		t.Fatalf("server_state: %v", full["server_state"])
	}
	rid := full["rid"].(float64)

	// Nothing changed: no torrents.
	inc := e.maindata(url.Values{"rid": {jsonNum(rid)}})
	if inc["full_update"] == true || inc["torrents"] != nil || inc["rid"].(float64) <= rid {
		t.Fatalf("no change: %v", inc)
	}
	rid = inc["rid"].(float64)

	// A category set on one torrent: only its category field, and the
	// new category.
	e.post("torrents/createCategory", "category", "tv", "savePath", filepath.Join(e.dir, "tv"))
	e.post("torrents/setCategory", "hashes", c, "category", "tv")
	e.post("torrents/addTags", "hashes", c, "tags", "fresh")
	inc = e.maindata(url.Values{"rid": {jsonNum(rid)}})
	ts, _ := inc["torrents"].(map[string]any)
	if len(ts) != 1 {
		t.Fatalf("after setCategory: torrents %v", inc["torrents"])
	}
	fields := ts[c].(map[string]any)
	if len(fields) != 2 || fields["category"] != "tv" || fields["tags"] != "fresh" {
		t.Fatalf("changed fields: %v, want only category and tags", fields)
	}
	if cat := inc["categories"].(map[string]any)["tv"].(map[string]any); cat["savePath"] != filepath.Join(e.dir, "tv") {
		t.Fatalf("categories: %v", inc["categories"])
	}
	if tags := inc["tags"].([]any); len(tags) != 1 || tags[0] != "fresh" {
		t.Fatalf("tags: %v", inc["tags"])
	}
	rid2 := inc["rid"].(float64)

	// Removed torrent, category and tag.
	e.post("torrents/delete", "hashes", c, "deleteFiles", "false")
	e.post("torrents/removeCategories", "categories", "tv")
	inc = e.maindata(url.Values{"rid": {jsonNum(rid2)}})
	if rm := inc["torrents_removed"].([]any); len(rm) != 1 || rm[0] != c {
		t.Fatalf("torrents_removed: %v", inc["torrents_removed"])
	}
	if inc["torrents"] != nil {
		t.Fatalf("torrents after a removal: %v", inc["torrents"])
	}
	if rm := inc["categories_removed"].([]any); len(rm) != 1 || rm[0] != "tv" {
		t.Fatalf("categories_removed: %v", inc["categories_removed"])
	}
	if rm := inc["tags_removed"].([]any); len(rm) != 1 || rm[0] != "fresh" {
		t.Fatalf("tags_removed: %v", inc["tags_removed"])
	}

	// An older rid still in the window answers from its state; an unknown
	// one gets a full update.
	inc = e.maindata(url.Values{"rid": {jsonNum(rid)}})
	if inc["full_update"] == true || inc["torrents_removed"] == nil {
		t.Fatalf("older rid: %v", inc)
	}
	inc = e.maindata(url.Values{"rid": {"99999"}})
	if inc["full_update"] != true || len(inc["torrents"].(map[string]any)) != 1 {
		t.Fatalf("unknown rid: %v", inc)
	}
	if _, ok := inc["torrents"].(map[string]any)[hb].(map[string]any)["name"]; !ok {
		t.Fatal("a full update has whole torrent objects")
	}
}

// maindata answers sync/maindata into a fresh map.
func (e *env) maindata(q url.Values) map[string]any {
	e.t.Helper()
	var m map[string]any
	e.getJSON("sync/maindata", q, &m)
	return m
}

func jsonNum(f float64) string { b, _ := json.Marshal(f); return string(b) }

func TestSyncSnapshotsBounded(t *testing.T) {
	st := newSyncState()
	big := map[string]*torrent{}
	for i := range maxSnapshotTorrents / 2 {
		big[hex.EncodeToString([]byte{byte(i >> 8), byte(i)})] = &torrent{}
	}
	for range 3 * maxSnapshots {
		st.record(snapshot{torrents: map[string]*torrent{}}, 0)
	}
	if len(st.snaps) != maxSnapshots {
		t.Fatalf("%d snapshots kept, want %d", len(st.snaps), maxSnapshots)
	}
	for range 5 {
		st.record(snapshot{torrents: big}, 0)
	}
	if len(st.snaps) != 2 {
		t.Fatalf("%d big snapshots kept, want 2 (%d torrent objects at most)", len(st.snaps), maxSnapshotTorrents)
	}
	if _, _, ok := st.record(snapshot{}, 1); ok {
		t.Fatal("an evicted rid was found")
	}
	if _, _, ok := st.record(snapshot{}, st.last); !ok {
		t.Fatal("the newest rid was not found")
	}
}

func TestAddAndErrors(t *testing.T) {
	e := newEnv(t, Options{})
	magA, a := randomMagnet("a")
	magB, b := randomMagnet("b")
	raw, hc := testutil.BigTorrent(t, "c", 3)
	save := filepath.Join(e.dir, "elsewhere")
	code, body := e.multipartAdd(map[string]string{
		"urls": magA + "\r\n" + magB + "\n", "savepath": save, "category": "auto", "tags": "t1,t2",
		"paused": "true", "upLimit": "1000", "dlLimit": "2000", "ratioLimit": "1.5", "seedingTimeLimit": "10",
		"sequentialDownload": "true", "firstLastPiecePrio": "true", "autoTMM": "false", "contentLayout": "Original",
	}, raw)
	if code != 200 || body != "Ok." {
		t.Fatalf("add: %d %q", code, body)
	}
	var list []map[string]any
	e.getJSON("torrents/info", url.Values{"hashes": {a + "|" + b + "|" + hc}}, &list)
	if len(list) != 3 {
		t.Fatalf("%d torrents added, want 3", len(list))
	}
	for _, o := range list {
		for k, want := range map[string]any{"save_path": save, "category": "auto", "tags": "t1, t2", "up_limit": 1000.0,
			"dl_limit": 2000.0, "ratio_limit": 1.5, "max_ratio": 1.5, "seeding_time_limit": 10.0, "seq_dl": true, "f_l_piece_prio": true} {
			if o[k] != want {
				t.Errorf("%s: %s = %#v, want %#v", o["hash"], k, o[k], want)
			}
		}
	}
	var cats map[string]map[string]string
	e.getJSON("torrents/categories", nil, &cats)
	if cats["auto"]["savePath"] != filepath.Join(e.srv.Config.Handler.(*Handler).opts.DefaultSavePath, "auto") {
		t.Errorf("auto-created category: %v", cats)
	}
	// Already there, nothing, not a torrent.
	if code, body := e.multipartAdd(map[string]string{"urls": magA}); code != 200 || body != "Fails." {
		t.Errorf("duplicate: %d %q", code, body)
	}
	if code, body := e.multipartAdd(nil); code != 200 || body != "Fails." {
		t.Errorf("empty add: %d %q", code, body)
	}
	if code, body := e.multipartAdd(nil, []byte("d4:spam")); code != http.StatusUnsupportedMediaType {
		t.Errorf("bad .torrent: %d %q", code, body)
	}
	// Errors by route.
	for _, tc := range []struct {
		method, route string
		form          url.Values
		want          int
	}{
		{"GET", "torrents/properties", url.Values{"hash": {"0000000000000000000000000000000000000000"}}, 404},
		{"GET", "torrents/properties", url.Values{"hash": {"not-a-hash"}}, 404},
		{"GET", "torrents/properties", nil, 400},
		{"GET", "torrents/files", url.Values{"hash": {strings.Repeat("ab", 20)}}, 404},
		{"POST", "torrents/filePrio", url.Values{"hash": {hc}, "id": {"0"}, "priority": {"3"}}, 400},
		{"POST", "torrents/filePrio", url.Values{"hash": {hc}, "id": {"7"}, "priority": {"1"}}, 409},
		{"POST", "torrents/filePrio", url.Values{"hash": {a}, "id": {"0"}, "priority": {"1"}}, 409},
		{"POST", "torrents/setCategory", url.Values{"hashes": {hc}, "category": {"nope"}}, 409},
		{"POST", "torrents/createCategory", url.Values{"category": {""}}, 400},
		{"POST", "torrents/createCategory", url.Values{"category": {"auto"}}, 409},
		{"POST", "torrents/editCategory", url.Values{"category": {"nope"}, "savePath": {"/x"}}, 409},
		{"POST", "torrents/setLocation", url.Values{"hashes": {hc}}, 400},
		{"POST", "torrents/setShareLimits", url.Values{"hashes": {hc}}, 400},
		{"POST", "torrents/setUploadLimit", url.Values{"hashes": {hc}, "limit": {"fast"}}, 400},
		{"POST", "app/setPreferences", url.Values{"json": {"{bad"}}, 400},
		{"POST", "torrents/rename", url.Values{"hash": {hc}, "name": {"  "}}, 409},
		{"POST", "torrents/rename", url.Values{"hash": {hc}}, 400},
		{"POST", "torrents/rename", url.Values{"hash": {strings.Repeat("ab", 20)}, "name": {"x"}}, 404},
		{"POST", "torrents/renameFile", url.Values{"hash": {hc}, "oldPath": {"c"}}, 400},
		{"POST", "torrents/renameFile", url.Values{"hash": {hc}, "oldPath": {"nope"}, "newPath": {"d"}}, 409},
		{"POST", "torrents/renameFile", url.Values{"hash": {hc}, "oldPath": {"c"}, "newPath": {"../d"}}, 409},
		{"POST", "torrents/renameFile", url.Values{"hash": {hc}, "oldPath": {"c"}, "newPath": {"/tmp/d"}}, 409},
		{"POST", "torrents/renameFolder", url.Values{"hash": {hc}, "oldPath": {"c"}, "newPath": {"d"}}, 409},
		{"POST", "torrents/pause", url.Values{"hashes": {"ffff|" + strings.Repeat("0", 40)}}, 200},
	} {
		if code, body := e.do(tc.method, tc.route, tc.form); code != tc.want {
			t.Errorf("%s %s %v: %d %q, want %d", tc.method, tc.route, tc.form, code, body, tc.want)
		}
	}
	// filePrio on a torrent with metadata.
	e.post("torrents/filePrio", "hash", hc, "id", "0", "priority", "0")
	var files []map[string]any
	e.getJSON("torrents/files", url.Values{"hash": {hc}}, &files)
	if len(files) != 1 || files[0]["priority"] != 0.0 || files[0]["name"] != "c" {
		t.Errorf("files after filePrio 0: %v", files)
	}
	// Renames: the file, then the torrent's display name.
	if code, body := e.do("POST", "torrents/renameFile", url.Values{"hash": {hc}, "oldPath": {"c"}, "newPath": {"dir/d"}}); code != 200 {
		t.Fatalf("renameFile: %d %q", code, body)
	}
	e.getJSON("torrents/files", url.Values{"hash": {hc}}, &files)
	if len(files) != 1 || files[0]["name"] != "dir/d" {
		t.Errorf("files after renameFile: %v", files)
	}
	if code, body := e.do("POST", "torrents/renameFolder", url.Values{"hash": {hc}, "oldPath": {"dir"}, "newPath": {"other"}}); code != 200 {
		t.Fatalf("renameFolder: %d %q", code, body)
	}
	e.getJSON("torrents/files", url.Values{"hash": {hc}}, &files)
	if len(files) != 1 || files[0]["name"] != "other/d" {
		t.Errorf("files after renameFolder: %v", files)
	}
	if code, body := e.do("POST", "torrents/rename", url.Values{"hash": {hc}, "name": {"Shown name"}}); code != 200 {
		t.Fatalf("rename: %d %q", code, body)
	}
	e.getJSON("torrents/info", url.Values{"hashes": {hc}}, &list)
	if list[0]["name"] != "Shown name" {
		t.Errorf("name after rename: %v", list[0]["name"])
	}
	// Share limits: -2 is the session's.
	e.post("torrents/setShareLimits", "hashes", hc, "ratioLimit", "-2", "seedingTimeLimit", "-2", "inactiveSeedingTimeLimit", "-2")
	e.getJSON("torrents/info", url.Values{"hashes": {hc}}, &list)
	if list[0]["ratio_limit"] != -2.0 || list[0]["seeding_time_limit"] != -2.0 {
		t.Errorf("after setShareLimits -2: %v %v", list[0]["ratio_limit"], list[0]["seeding_time_limit"])
	}
	// Global limits.
	e.post("transfer/setDownloadLimit", "limit", "4096")
	if code, body := e.do("GET", "transfer/downloadLimit", nil); body != "4096" {
		t.Errorf("transfer/downloadLimit: %d %q", code, body)
	}
	var ti map[string]any
	e.getJSON("transfer/info", nil, &ti)
	if ti["dl_rate_limit"] != 4096.0 {
		t.Errorf("transfer/info: %v", ti)
	}
	// Toggles and force start.
	e.post("torrents/toggleSequentialDownload", "hashes", hc)
	e.post("torrents/toggleFirstLastPiecePrio", "hashes", hc)
	e.post("torrents/setForceStart", "hashes", hc, "value", "true")
	e.getJSON("torrents/info", url.Values{"hashes": {hc}}, &list)
	if list[0]["seq_dl"] != false || list[0]["f_l_piece_prio"] != false || list[0]["force_start"] != true {
		t.Errorf("after toggles and force start: %v %v %v", list[0]["seq_dl"], list[0]["f_l_piece_prio"], list[0]["force_start"])
	}
}

func TestStopStartAll(t *testing.T) {
	e := newEnv(t, Options{})
	rawA, a := testutil.BigTorrent(t, "a", 2)
	rawB, b := testutil.BigTorrent(t, "b", 2)
	e.multipartAdd(nil, rawA, rawB)
	e.waitState(a, "stalledDL")
	e.waitState(b, "stalledDL")
	e.post("torrents/stop", "hashes", "all")
	e.waitState(a, "pausedDL")
	e.waitState(b, "pausedDL")
	e.post("torrents/start", "hashes", b)
	e.waitState(b, "stalledDL")
	if s := e.state(a); s != "pausedDL" {
		t.Fatalf("a started with b: %s", s)
	}
	e.post("torrents/resume", "hashes", "all")
	e.waitState(a, "stalledDL")
	e.post("torrents/pause", "hashes", a+"|"+b)
	e.waitState(a, "pausedDL")
	e.waitState(b, "pausedDL")
	e.post("torrents/delete", "hashes", "all", "deleteFiles", "true")
	if got := e.infoHashes(nil); len(got) != 0 {
		t.Fatalf("after delete all: %v", got)
	}
}

func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t, Options{})
	big := bytes.Repeat([]byte("x"), MaxBodyBytes+1024)
	code, _ := e.multipartAdd(nil, big)
	if code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized add: %d, want 413", code)
	}
}
