package browser

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// peersResult is peers.js's RESULT line.
type peersResult struct {
	Steps      []string `json:"steps"`
	PageErrors []string `json:"pageErrors"`
	Rows       []struct {
		Addr            string `json:"addr"`
		Transport       string `json:"transport"`
		Encryption      string `json:"encryption"` // the cell's data-encryption
		EncryptionText  string `json:"encryptionText"`
		EncryptionTitle string `json:"encryptionTitle"`
		IP              string `json:"ip"`
	} `json:"rows"`
	Ascending  []string `json:"ascending"`  // row addresses after one click on Encryption
	Descending []string `json:"descending"` // and after a second
	AriaSort   []string `json:"ariaSort"`   // the header's aria-sort after each click
}

// TestWebUIPeers connects a leecher daemon to two real seeder daemons, one
// with --encryption require and one with --encryption disable (each
// upload-limited so that the download lasts), and checks the web UI's
// peers table against the leecher's API: each row shows the connection's
// transport, its encryption (RC4 for the one, none for the other) and its
// IP version, and a click on the Encryption header sorts the rows by it,
// a second click the other way.
func TestWebUIPeers(t *testing.T) {
	br := newBrowserRun(t, "three daemons")
	tmp := br.tmp

	// 2 MiB at 32 KiB/s from each seeder: half a minute of download.
	data := make([]byte, 2<<20)
	rand.Read(data)
	var torrent []byte
	var hash string
	ports := map[string]int{}
	for _, enc := range []string{"require", "disable"} {
		dir := filepath.Join(tmp, "seed-"+enc)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "peers.bin")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if torrent == nil {
			tb, mi, err := metainfo.Create(metainfo.CreateOptions{Path: p, PieceLength: 32 << 10})
			if err != nil {
				t.Fatal(err)
			}
			torrent, hash = tb, mi.InfoHash.String()
		}
		port, err := testutil.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[enc] = port
		args := []string{"--port", strconv.Itoa(port), "--encryption", enc, "--upload-limit", "32KiB"}
		if enc == "disable" {
			args = append(args, "--utp=false") // reached over TCP; the other over uTP, tried first
		}
		seeder := br.daemon(t, "seed-"+enc, dir, args...)
		seeder.seed(t, torrent)
	}
	addrOf := func(enc string) string { return "127.0.0.1:" + strconv.Itoa(ports[enc]) }

	leecher := br.daemon(t, "leech", filepath.Join(tmp, "leech"))
	leecher.addMagnet(t, fmt.Sprintf("magnet:?xt=urn:btih:%s&dn=peers.bin&x.pe=%s&x.pe=%s", hash, addrOf("require"), addrOf("disable")), "")
	var api map[string]session.PeerStatus
	testutil.WaitFor(t, 30*time.Second, "the leecher to connect to both seeders", func() bool {
		api = map[string]session.PeerStatus{}
		for _, p := range leecher.detail(t, hash).PeerList {
			api[p.Addr] = p
		}
		return len(api) == 2
	})
	want := map[string]string{addrOf("require"): "rc4", addrOf("disable"): "none"}
	wantTransport := map[string]string{addrOf("require"): "utp", addrOf("disable"): "tcp"}
	for addr, enc := range want {
		if p := api[addr]; p.Encryption != enc || p.Transport != wantTransport[addr] || p.IPVersion != 4 {
			t.Fatalf("the API reports %s as %+v, want encryption %s over %s/IPv4", addr, p, enc, wantTransport[addr])
		}
	}

	var res peersResult
	br.runResult(t, "peers.js", map[string]any{"base": leecher.base, "hash": hash}, &res)
	if len(res.PageErrors) > 0 {
		t.Errorf("the page reported errors: %q", res.PageErrors)
	}

	// Each row shows what the API reports for its connection.
	if len(res.Rows) != 2 {
		t.Fatalf("peer rows %+v, want 2", res.Rows)
	}
	for _, r := range res.Rows {
		enc, ok := want[r.Addr]
		if !ok {
			t.Errorf("a row for %q, not one of the seeders", r.Addr)
			continue
		}
		shown := map[string]string{"tcp": "TCP", "utp": "uTP"}[wantTransport[r.Addr]]
		if r.Encryption != enc || r.Transport != shown || r.IP != "IPv4" {
			t.Errorf("row %s: encryption %q, transport %q, IP %q; want %q, %s, IPv4", r.Addr, r.Encryption, r.Transport, r.IP, enc, shown)
		}
		if enc == "rc4" && (!strings.Contains(r.EncryptionText, "RC4") || !strings.Contains(r.EncryptionTitle, "RC4")) {
			t.Errorf("row %s: encryption shown as %q (%q), want RC4", r.Addr, r.EncryptionText, r.EncryptionTitle)
		}
		if enc == "none" && r.EncryptionText != "none" {
			t.Errorf("row %s: encryption shown as %q, want none", r.Addr, r.EncryptionText)
		}
	}
	// Sorted by encryption: none before RC4 ascending, RC4 first descending.
	if strings.Join(res.Ascending, " ") != addrOf("disable")+" "+addrOf("require") ||
		strings.Join(res.Descending, " ") != addrOf("require")+" "+addrOf("disable") {
		t.Errorf("sorted by encryption: ascending %v, descending %v", res.Ascending, res.Descending)
	}
	if strings.Join(res.AriaSort, " ") != "ascending descending" {
		t.Errorf("the Encryption header's aria-sort after two clicks: %v", res.AriaSort)
	}
	t.Logf("steps: %s", strings.Join(res.Steps, " → "))
}
