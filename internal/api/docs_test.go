package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/dht"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/portmap"
	"github.com/gobit/gobit/internal/session"
)

const apiDoc = "../../docs/api.md"

// docSections maps the name each section of docs/api.md gives in its
// heading, "### Title (`pkg.Type`)", to the type it documents.
var docSections = map[string]reflect.Type{
	"session.Status":         reflect.TypeFor[session.Status](),
	"session.Detail":         reflect.TypeFor[session.Detail](),
	"session.FileStatus":     reflect.TypeFor[session.FileStatus](),
	"session.TrackerStatus":  reflect.TypeFor[session.TrackerStatus](),
	"session.PeerStatus":     reflect.TypeFor[session.PeerStatus](),
	"session.TorrentUpdate":  reflect.TypeFor[session.TorrentUpdate](),
	"session.Settings":       reflect.TypeFor[session.Settings](),
	"session.SettingsUpdate": reflect.TypeFor[session.SettingsUpdate](),
	"api.AddBody":            reflect.TypeFor[AddBody](),
	"api.MoveBody":           reflect.TypeFor[MoveBody](),
	"api.FilesBody":          reflect.TypeFor[FilesBody](),
	"session.PieceMap":       reflect.TypeFor[session.PieceMap](),
	"api.ErrorBody":          reflect.TypeFor[ErrorBody](),
	"dht.Stats":              reflect.TypeFor[dht.Stats](),
	"session.Category":       reflect.TypeFor[session.Category](),
	"session.CategoryUpdate": reflect.TypeFor[session.CategoryUpdate](),
	"session.TagInfo":        reflect.TypeFor[session.TagInfo](),
	"api.TagRenameBody":      reflect.TypeFor[TagRenameBody](),
	"api.FileRenameBody":     reflect.TypeFor[FileRenameBody](),
	"api.RenameBody":         reflect.TypeFor[RenameBody](),
	"api.QueueBody":          reflect.TypeFor[QueueBody](),
	"api.SessionInfo":        reflect.TypeFor[SessionInfo](),
	"session.NetPathStatus":  reflect.TypeFor[session.NetPathStatus](),
	"api.FreeSpaceBody":      reflect.TypeFor[FreeSpaceBody](),
	"api.StreamTicket":       reflect.TypeFor[StreamTicket](),
	"session.Snapshot":       reflect.TypeFor[session.Snapshot](),
	"session.TorrentRemoved": reflect.TypeFor[session.TorrentRemoved](),
	"session.StateChange":    reflect.TypeFor[session.StateChange](),
	"session.Progress":       reflect.TypeFor[session.Progress](),
	"session.SessionStats":   reflect.TypeFor[session.SessionStats](),
	"session.NetworkStatus":  reflect.TypeFor[session.NetworkStatus](),
	"session.ExternalAddr":   reflect.TypeFor[session.ExternalAddr](),
	"portmap.Status":         reflect.TypeFor[portmap.Status](),
	"portmap.Mapping":        reflect.TypeFor[portmap.Mapping](),
}

// docFieldNames returns the JSON names of t's own fields (those of embedded
// structs are documented in their own section).
func docFieldNames(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

var (
	headingRe = regexp.MustCompile("(?m)^#{2,3} .*$")
	typeRe    = regexp.MustCompile("\\(`([a-z]+\\.[A-Za-z]+)`\\)\\s*$")
	rowRe     = regexp.MustCompile("(?m)^\\| `([a-z0-9_]+)` \\|")
)

// readDocSections returns, for each type named in a heading of
// docs/api.md, the field names of its table.
func readDocSections(t *testing.T) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(apiDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	out := map[string][]string{}
	heads := headingRe.FindAllStringIndex(doc, -1)
	for i, h := range heads {
		m := typeRe.FindStringSubmatch(doc[h[0]:h[1]])
		if m == nil {
			continue
		}
		end := len(doc)
		if i+1 < len(heads) {
			end = heads[i+1][0]
		}
		for _, r := range rowRe.FindAllStringSubmatch(doc[h[1]:end], -1) {
			out[m[1]] = append(out[m[1]], r[1])
		}
	}
	return out
}

// TestAPIDocCoversEveryField fails when a JSON field of an object the API
// sends or takes is not described in docs/api.md, or when the document
// describes a field that no longer exists.
func TestAPIDocCoversEveryField(t *testing.T) {
	sections := readDocSections(t)
	for name, typ := range docSections {
		documented, ok := sections[name]
		if !ok {
			t.Errorf("docs/api.md has no section headed (`%s`)", name)
			continue
		}
		have := map[string]bool{}
		for _, f := range documented {
			have[f] = true
		}
		real := map[string]bool{}
		for _, f := range docFieldNames(typ) {
			real[f] = true
			if !have[f] {
				t.Errorf("%s: field %q is not described in docs/api.md", name, f)
			}
		}
		for _, f := range documented {
			if !real[f] {
				t.Errorf("%s: docs/api.md describes %q, which the type does not have", name, f)
			}
		}
	}
	for name := range sections {
		if _, ok := docSections[name]; !ok {
			t.Errorf("docs/api.md documents %s, which this test does not check: add it to docSections", name)
		}
	}
}

// TestAPIDocMatchesRealAnswers checks the keys of real answers of a real
// session (a torrent with files and trackers, the list, the settings)
// against docs/api.md.
func TestAPIDocMatchesRealAnswers(t *testing.T) {
	sections := readDocSections(t)
	documented := func(names ...string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			for _, f := range sections[n] {
				m[f] = true
			}
		}
		return m
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(filepath.Join(src, "d"), 0o755)
	os.WriteFile(filepath.Join(src, "d", "a.bin"), bytes.Repeat([]byte("a"), 50000), 0o644)
	os.WriteFile(filepath.Join(src, "d", "b.bin"), bytes.Repeat([]byte("b"), 30000), 0o644)
	data, _, err := metainfo.Create(metainfo.CreateOptions{Path: filepath.Join(src, "d"), Trackers: [][]string{{"http://127.0.0.1:1/announce"}}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := session.New(session.Config{DownloadDir: filepath.Join(dir, "dl"), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Add(context.Background(), session.AddRequest{Torrent: data, Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(s, Options{})

	get := func(path string) any {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "http://127.0.0.1"+path, nil)) // a loopback Host, as the CLI sends
		if w.Code != 200 {
			t.Fatalf("GET %s: %d %s", path, w.Code, w.Body.String())
		}
		var v any
		if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	check := func(what string, obj any, allowed map[string]bool) {
		m, ok := obj.(map[string]any)
		if !ok {
			t.Fatalf("%s: %T, want an object", what, obj)
		}
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !allowed[k] {
				t.Errorf("%s: key %q of the real answer is not in docs/api.md", what, k)
			}
		}
	}

	detail := get("/api/v1/torrents/" + st.InfoHash).(map[string]any)
	check("detail", detail, documented("session.Status", "session.Detail"))
	files, _ := detail["files"].([]any)
	trackers, _ := detail["trackers"].([]any)
	if len(files) != 2 || len(trackers) != 1 {
		t.Fatalf("detail lists %d files and %d trackers, want 2 and 1", len(files), len(trackers))
	}
	for _, f := range files {
		check("file", f, documented("session.FileStatus"))
	}
	for _, tr := range trackers {
		check("tracker", tr, documented("session.TrackerStatus"))
	}
	if _, ok := detail["peer_list"].([]any); !ok {
		t.Errorf("peer_list is %v, want a list", detail["peer_list"])
	}
	for _, item := range get("/api/v1/torrents").([]any) {
		check("list item", item, documented("session.Status"))
	}
	check("settings", get("/api/v1/session"), documented("session.Settings", "session.NetPathStatus", "api.SessionInfo", "session.NetworkStatus"))

	// Every state the docs name is a state of the session, and back.
	doc, _ := os.ReadFile(apiDoc)
	for _, s := range []session.State{session.StateMetadata, session.StateChecking, session.StateDownloading,
		session.StateSeeding, session.StatePaused, session.StateError} {
		if !strings.Contains(string(doc), "| `"+string(s)+"` |") {
			t.Errorf("state %q is not described in docs/api.md", s)
		}
	}
}
