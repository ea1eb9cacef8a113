package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/metainfo"
)

// makeTorrent creates a two-file torrent in a temp dir and returns its
// path, bytes and parsed form.
func makeTorrent(t *testing.T, private bool) (string, []byte, *metainfo.MetaInfo) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "payload")
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "big.bin"), bytes.Repeat([]byte{7}, 300000), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "sub", "small.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data, mi, err := metainfo.Create(metainfo.CreateOptions{
		Path:         src,
		Name:         "My Payload",
		PieceLength:  32 << 10,
		Trackers:     [][]string{{"udp://tracker.one:1337/announce", "udp://tracker.two:6969"}, {"http://tracker.three/announce"}},
		WebSeeds:     []string{"https://seed.example/files/"},
		Comment:      "line one\x1b[31m red",
		CreatedBy:    "gobit test",
		Private:      private,
		CreationDate: 1700000000,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "payload.torrent")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, data, mi
}

func TestInfoTorrentFile(t *testing.T) {
	clearEnv(t)
	for _, private := range []bool{false, true} {
		path, _, mi := makeTorrent(t, private)
		out, errOut, code := gobit(t, "info", path)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		priv := "Private:      no"
		if private {
			priv = "Private:      yes"
		}
		mustContain(t, "info output", out,
			"Name:         My Payload",
			"Info hash:    "+mi.InfoHash.String(),
			"(300006 bytes)",
			"Piece length: 32 KiB (32768 bytes)",
			"Pieces:       10",
			priv,
			"Created by:   gobit test",
			"Created on:   2023-11-14 22:13:20 UTC",
			"magnet:?xt=urn:btih:"+mi.InfoHash.String(),
			"tier 1: udp://tracker.one:1337/announce\n          udp://tracker.two:6969",
			"tier 2: http://tracker.three/announce",
			"Web seeds:\n  https://seed.example/files/",
			"Files (2):",
			"293 KiB  "+filepath.Join("My Payload", "big.bin"),
			"6 B  "+filepath.Join("My Payload", "sub", "small.txt"),
		)
		if strings.Contains(out, "\x1b") {
			t.Error("a control character from the torrent reached the terminal")
		}
		mustContain(t, "info output", out, "line one?[31m red")
	}
}

func TestInfoURL(t *testing.T) {
	clearEnv(t)
	_, data, mi := makeTorrent(t, false)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/x.torrent":
			w.Write(data)
		case "/huge.torrent":
			chunk := bytes.Repeat([]byte("x"), 1<<20)
			for i := 0; i < 11; i++ {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	out, errOut, code := gobit(t, "info", srv.URL+"/x.torrent")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	mustContain(t, "info output", out, mi.InfoHash.String(), "My Payload")

	_, errOut, code = gobit(t, "info", srv.URL+"/huge.torrent")
	if code == 0 || !strings.Contains(errOut, "limit") {
		t.Errorf("oversized URL: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = gobit(t, "info", srv.URL+"/missing.torrent")
	if code == 0 || !strings.Contains(errOut, "404") {
		t.Errorf("missing URL: exit %d, stderr %q", code, errOut)
	}
}

func TestInfoMagnet(t *testing.T) {
	clearEnv(t)
	const hash = "0123456789abcdef0123456789abcdef01234567"
	m := "magnet:?xt=urn:btih:" + strings.ToUpper(hash) + "&dn=Some+Name&xl=1048576" +
		"&tr=udp%3A%2F%2Ftracker.one%3A1337&tr=http%3A%2F%2Ftracker.two%2Fannounce" +
		"&ws=https%3A%2F%2Fseed.example%2F&x.pe=10.0.0.1%3A6881"
	out, errOut, code := gobit(t, "info", m)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	mustContain(t, "info output", out,
		"Info hash:   "+hash, "Name:        Some Name", "1.0 MiB (1048576 bytes)",
		"Trackers:\n  udp://tracker.one:1337\n  http://tracker.two/announce",
		"Web seeds:\n  https://seed.example/", "Peers:\n  10.0.0.1:6881")

	out, _, code = gobit(t, "info", "magnet:?xt=urn:btih:"+hash)
	if code != 0 {
		t.Fatal("bare magnet failed")
	}
	mustContain(t, "bare magnet", out, "Name:        (none)", "Trackers: none", "Peers: none")
}

func TestInfoErrors(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.torrent")
	os.WriteFile(garbage, []byte("this is not bencode"), 0o644)
	tests := []struct {
		arg  string
		want string
	}{
		{filepath.Join(dir, "missing.torrent"), "no such file"},
		{garbage, "garbage.torrent"},
		{"magnet:?dn=nohash", "magnet"},
		{dir, ""},
	}
	for _, tt := range tests {
		_, errOut, code := gobit(t, "info", tt.arg)
		if code != exitFailure || !strings.Contains(errOut, tt.want) {
			t.Errorf("info %s: exit %d, stderr %q (want %q)", tt.arg, code, errOut, tt.want)
		}
	}
}
