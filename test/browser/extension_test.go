package browser

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBrowserExtensionAndRemoteUI drives two daemons from a real browser
// extension's service worker and from a web page of another origin: the
// one started with --api-allowed-origins naming both accepts their adds
// and lets them read the answers; the other refuses the extension with a
// 403 that names the flag, and the page's request never gets past the
// CORS preflight. What each daemon holds afterwards is read back through
// its API.
func TestBrowserExtensionAndRemoteUI(t *testing.T) {
	br := newBrowserRun(t, "two daemons with a browser extension loaded")
	ext, extOrigin := writeExtension(t, filepath.Join(br.tmp, "extension"))
	ui := newAttackerServer(t, []byte("document.title = 'remote web UI';"))
	ui.setPage("/ui", map[string]any{})
	uiOrigin := "http://" + ui.addr

	const token = "extension-test-token"
	downloads := filepath.Join(br.tmp, "downloads")
	if err := os.MkdirAll(downloads, 0o755); err != nil {
		t.Fatal(err)
	}
	allowed := br.daemon(t, "allowed", downloads, "--api-token", token, "--api-allowed-origins", extOrigin+","+uiOrigin)
	plain := br.daemon(t, "plain", downloads, "--api-token", token)
	daemons := map[string]*daemon{"allowed": allowed, "plain": plain}

	magnets := map[string]string{}
	hashes := map[string]string{}
	i := 0
	for _, caller := range []string{"extension", "ui"} {
		for _, d := range []string{"allowed", "plain"} {
			i++
			h := strings.Repeat(fmt.Sprintf("%x", 8+i), 40)
			magnets[caller+"-"+d] = "magnet:?xt=urn:btih:" + h + "&dn=" + caller + "-" + d
			hashes[caller+"-"+d] = h
		}
	}
	var res struct {
		ExtensionURL string
		Calls        []struct {
			Caller, Daemon, Body, Error string
			Status                      int
		}
		PageErrors []string
	}
	br.runResult(t, "extension.js", map[string]any{
		"ext":     ext,
		"token":   token,
		"magnets": magnets,
		"uiPage":  uiOrigin + "/ui",
		"daemons": []map[string]string{{"name": "allowed", "base": allowed.base}, {"name": "plain", "base": plain.base}},
	}, &res)
	if !strings.HasPrefix(res.ExtensionURL, extOrigin+"/") {
		t.Fatalf("the extension runs at %s, want under %s (its id comes from the manifest's key)", res.ExtensionURL, extOrigin)
	}
	if len(res.Calls) != 4 {
		t.Fatalf("calls %+v, want 4", res.Calls)
	}
	for _, c := range res.Calls {
		key := c.Caller + "-" + c.Daemon
		switch {
		case c.Daemon == "allowed":
			if c.Status != http.StatusCreated || !strings.Contains(c.Body, hashes[key]) {
				t.Errorf("%s: %d %q %s, want 201 with the torrent's status readable", key, c.Status, c.Body, c.Error)
			}
		case c.Caller == "extension":
			// The extension's host permission lets it read the refusal.
			if c.Status != http.StatusForbidden || !strings.Contains(c.Body, "--api-allowed-origins") {
				t.Errorf("%s: %d %q %s, want a 403 naming --api-allowed-origins", key, c.Status, c.Body, c.Error)
			}
		default:
			if c.Error == "" {
				t.Errorf("%s: the page read an answer (%d %q) from a daemon that does not allow its origin", key, c.Status, c.Body)
			}
		}
	}
	for name, dm := range daemons {
		got := listHashes(t, dm, token)
		for key, h := range hashes {
			want := strings.HasSuffix(key, "-"+name) && name == "allowed"
			if got[h] != want {
				t.Errorf("daemon %s holds %s (%s): %v, want %v", name, key, h, got[h], want)
			}
		}
	}
}

// listHashes returns the info hashes dm holds, asked with the token.
func listHashes(t *testing.T, dm *daemon, token string) map[string]bool {
	t.Helper()
	req, _ := http.NewRequest("GET", dm.base+"/api/v1/torrents?fields=info_hash", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := dm.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []struct {
		InfoHash string `json:"info_hash"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("list: %d: %v", resp.StatusCode, err)
	}
	m := map[string]bool{}
	for _, s := range list {
		m[s.InfoHash] = true
	}
	return m
}

// writeExtension writes an unpacked Manifest V3 extension into dir, with a
// "key" so that its id, and so its origin, is known before chromium loads
// it: the id is the first 128 bits of the SHA-256 of the public key, each
// hex digit written as a letter from a to p.
func writeExtension(t *testing.T, dir string) (path, origin string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	var id strings.Builder
	for _, c := range fmt.Sprintf("%x", sum[:16]) {
		if c >= 'a' {
			id.WriteByte(byte('a' + 10 + c - 'a'))
		} else {
			id.WriteByte(byte('a' + c - '0'))
		}
	}
	manifest, _ := json.Marshal(map[string]any{
		"manifest_version": 3,
		"name":             "gobit test: send to gobit",
		"version":          "1.0",
		"key":              base64.StdEncoding.EncodeToString(der),
		"background":       map[string]string{"service_worker": "sw.js"},
		"host_permissions": []string{"http://127.0.0.1/*"},
	})
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sw.js"), []byte("self.addEventListener('install', () => {});\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, "chrome-extension://" + id.String()
}
