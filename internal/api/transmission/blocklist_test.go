package transmission

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/gobit/gobit/internal/session"
)

func TestBlocklistUpdate(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "list.p2p")
	if err := os.WriteFile(list, []byte("a:1.2.3.0-1.2.3.255\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := session.New(session.Config{DownloadDir: dir, Port: -1, Blocklist: list})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	h := New(s, Options{Version: "test"})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	g := &rig{t: t, h: h, srv: srv, dir: dir, sess: s}

	res, args := g.call("session-get", nil)
	if res != "success" || args["blocklist-enabled"] != true || args["blocklist-size"] != float64(1) || args["blocklist-url"] != list {
		t.Fatalf("session-get: %s %v %v %v", res, args["blocklist-enabled"], args["blocklist-size"], args["blocklist-url"])
	}
	if err := os.WriteFile(list, []byte("a:1.2.3.0-1.2.3.255\nb:5.0.0.0-5.0.0.9\n2001:db8::/32\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, args = g.call("blocklist-update", nil)
	if res != "success" || args["blocklist-size"] != float64(3) {
		t.Fatalf("blocklist-update: %s %v", res, args)
	}
	// A broken file: an error, and the previous list stays.
	if err := os.WriteFile(list, []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res, _ := g.call("blocklist-update", nil); res == "success" {
		t.Fatal("a broken blocklist reloaded")
	}
	if _, args = g.call("session-get", nil); args["blocklist-size"] != float64(3) {
		t.Fatalf("size after a failed reload: %v", args["blocklist-size"])
	}
}
