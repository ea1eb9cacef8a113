package main

import (
	"encoding/base32"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestMagnetFromHash(t *testing.T) {
	hexHash := "0123456789abcdef0123456789abcdef01234567"
	raw, _ := hex.DecodeString(hexHash)
	b32 := base32.StdEncoding.EncodeToString(raw)
	dir := t.TempDir()
	tests := map[string]string{
		hexHash:                             "magnet:?xt=urn:btih:" + hexHash,
		strings.ToUpper(hexHash):            "magnet:?xt=urn:btih:" + hexHash,
		" " + hexHash + "\n":                "magnet:?xt=urn:btih:" + hexHash,
		b32:                                 "magnet:?xt=urn:btih:" + hexHash,
		strings.ToLower(b32):                "magnet:?xt=urn:btih:" + hexHash,
		hexHash[:39] + "g":                  hexHash[:39] + "g", // not hex
		hexHash[:38]:                        hexHash[:38],
		"file.torrent":                      "file.torrent",
		"magnet:?xt=urn:btih:" + hexHash:    "magnet:?xt=urn:btih:" + hexHash,
		"https://example.invalid/a.torrent": "https://example.invalid/a.torrent",
	}
	for in, want := range tests {
		if got := magnetFromHash(in); got != want {
			t.Errorf("magnetFromHash(%q) = %q, want %q", in, got, want)
		}
	}
	// An existing file named like a hash stays a file.
	t.Chdir(dir)
	os.WriteFile(hexHash, nil, 0o644)
	if got := magnetFromHash(hexHash); got != hexHash {
		t.Errorf("a file named like a hash became %q", got)
	}
}

// TestDownloadChecksInputFirst: a bad argument is reported in plain words
// before download binds a port or creates its output directory.
func TestDownloadChecksInputFirst(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("shopping: milk, eggs\n"), 0o644)
	empty := filepath.Join(dir, "empty.torrent")
	os.WriteFile(empty, nil, 0o644)
	broken := filepath.Join(dir, "broken.torrent")
	os.WriteFile(broken, []byte("d4:infoi1ee"), 0o644)
	// A port held here: download would say it is busy if it got that far.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)

	tests := []struct {
		arg, want string
	}{
		{notes, notes + " is not a .torrent file (it does not start with a bencoded dictionary)"},
		{empty, empty + " is empty: not a .torrent file"},
		{broken, broken + " is not a valid .torrent file"},
		{"magnet:?xt=urn:btih:zz", "not a usable magnet link"},
		{"magnet:?dn=nohash", "not a usable magnet link"},
		{filepath.Join(dir, "nope"), "no such file (give a .torrent file, a magnet link, an info hash or an http(s) URL)"},
	}
	for _, tt := range tests {
		out := filepath.Join(dir, "out")
		_, errOut, code := gobit(t, "download", "--no-lsd", "--no-dht", "--listen-host", "127.0.0.1", "--port", port, "-o", out, tt.arg)
		if code != exitFailure || !strings.Contains(errOut, tt.want) {
			t.Errorf("download %s: exit %d, stderr %q, want %q", tt.arg, code, errOut, tt.want)
		}
		if strings.Contains(errOut, "busy") || strings.Contains(errOut, "bencode: invalid") {
			t.Errorf("download %s: %q", tt.arg, errOut)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("download %s created its output directory before checking its input", tt.arg)
		}
	}
}

// TestDownloadBareInfoHash: a bare info hash is taken as a magnet.
func TestDownloadBareInfoHash(t *testing.T) {
	clearEnv(t)
	hash := strings.Repeat("5a", 20)
	stdout, errOut, code := gobit(t, "download", "--no-lsd", "--no-dht", "--listen-host", "127.0.0.1", "--port", "0",
		"--timeout", "300ms", "-o", t.TempDir(), hash)
	mustContain(t, "download output", stdout, "downloading "+hash)
	if code != exitFailure || !strings.Contains(errOut, "timed out") {
		t.Errorf("exit %d, stderr %q; want a timeout while fetching metadata", code, errOut)
	}
}

// TestAddBareInfoHashAndNonTorrent: add takes a bare info hash as a magnet,
// and refuses a file that is not a .torrent before sending anything.
func TestAddBareInfoHashAndNonTorrent(t *testing.T) {
	clearEnv(t)
	fd, addr := startFakeDaemon(t, "")
	hash := strings.Repeat("7c", 20)
	if _, errOut, code := gobit(t, "add", "--addr", addr, hash); code != 0 {
		t.Fatalf("add %s: exit %d: %s", hash, code, errOut)
	}
	if len(fd.Adds) != 1 || fd.Adds[0].URI != "magnet:?xt=urn:btih:"+hash {
		t.Fatalf("daemon got %+v", fd.Adds)
	}
	notes := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notes, []byte("hello"), 0o644)
	_, errOut, code := gobit(t, "add", "--addr", addr, notes)
	if code != exitFailure || !strings.Contains(errOut, "notes.txt is not a .torrent file (it does not start with a bencoded dictionary)") {
		t.Errorf("add notes.txt: exit %d stderr %q", code, errOut)
	}
	if len(fd.Adds) != 1 {
		t.Errorf("notes.txt was sent to the daemon")
	}
}
