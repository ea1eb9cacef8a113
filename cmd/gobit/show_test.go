package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
)

func TestShowCommand(t *testing.T) {
	clearEnv(t)
	fd, addr := startFakeDaemon(t, "")
	const hash = "abcd1234abcd1234abcd1234abcd1234abcd1234"
	if _, errOut, code := gobit(t, "add", "--addr", addr, "magnet:?xt=urn:btih:"+hash+"&dn=big.iso"); code != 0 {
		t.Fatalf("add: %s", errOut)
	}
	now := time.Now()
	fd.SetDetail(hash, func(d *session.Detail) {
		d.PieceLength, d.Pieces = 256<<10, 8
		d.Completed, d.Downloaded, d.Uploaded, d.Ratio = 1<<20, 1<<20, 3<<10, 0.003
		d.Error = "write /data/big.iso: no space left on device"
		d.Files = []session.FileStatus{
			{Path: "big/part1.bin", Size: 1 << 20, Completed: 1 << 20, Progress: 1},
			{Path: "big/evil\x1b[2J.bin", Size: 1 << 20, Completed: 1 << 18, Progress: 0.25},
		}
		d.Trackers = []session.TrackerStatus{
			{URL: "http://tracker.example/announce", Tier: 0, Status: "working", Peers: 12, Seeders: 3, Leechers: 9,
				LastTime: now.Add(-12 * time.Second), NextTime: now.Add(29*time.Minute + 48*time.Second)},
			{URL: "udp://dead.example:1337", Tier: 1, Status: "error", Error: "announce: timeout after 15s",
				LastTime: now.Add(-3 * time.Minute)},
			{URL: "udp://later.example:80", Tier: 2, Status: "not contacted"},
		}
		d.PeerList = []session.PeerStatus{
			{Addr: "10.0.0.7:51413", Client: "Transmission 4.0", Source: "tracker", Outgoing: true, Progress: 1,
				DownloadRate: 512 << 10, Flags: "DX", Transport: "tcp", IPVersion: 4, Encrypted: true, Encryption: "rc4"},
			{Addr: "[2001:db8::1]:6881", Client: "", Source: "incoming", Progress: 0.1, UploadRate: 4 << 10, Flags: "UEX",
				Transport: "utp", IPVersion: 6, Encryption: "plaintext"},
			{Addr: "10.0.0.9:6881", Source: "pex", Outgoing: true, Transport: "tcp", IPVersion: 4, Encryption: "none"},
		}
	})

	// By a unique prefix, as ls shows it.
	out, errOut, code := gobit(t, "show", "--addr", addr, hash[:8])
	if code != 0 {
		t.Fatalf("show: exit %d: %s", code, errOut)
	}
	mustContain(t, "show", out,
		"Name:", "big.iso", "Info hash:", hash, "State:", "downloading",
		"Error:", "no space left on device",
		"Progress:", "50.0%", "1.0 MiB of 2.0 MiB", "8 pieces of 256 KiB",
		"down 1.5 MiB/s", "up 2.0 KiB/s", "ETA 2m05s", "ratio 0.00", "7 connected",
		"Files (2):", "100%", "big/part1.bin", "25.0%", "big/evil\uFFFD[2J.bin",
		"Trackers (3):", "working", "12s ago", "in 29m48s", "http://tracker.example/announce",
		"error", "3m00s ago", "last error of udp://dead.example:1337: announce: timeout after 15s", "not contacted",
		"Peers (3):", "10.0.0.7:51413", "Transmission 4.0", "DX", "100%", "512 KiB/s", "tracker, out",
		"[2001:db8::1]:6881", "UEX", "10.0%", "incoming, in", "flags: D downloading",
		"NET", "ENCRYPTION", "encryption: RC4 stream",
	)
	// Each peer's line holds its transport, IP version and encryption.
	for addr, want := range map[string]string{
		"10.0.0.7:51413":     "Transmission 4.0 TCP/IPv4 RC4 DX",
		"[2001:db8::1]:6881": "? uTP/IPv6 MSE-plain UEX",
		"10.0.0.9:6881":      "? TCP/IPv4 none -",
	} {
		found := false
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, addr) {
				found = true
				if !strings.Contains(strings.Join(strings.Fields(line), " "), want) {
					t.Errorf("peer line %q, want %q in it", line, want)
				}
			}
		}
		if !found {
			t.Errorf("no line for peer %s", addr)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Error("a control character from a file name reached the terminal")
	}
	// The tracker line holds its own figures: peers 12, seeds 3, leechers 9.
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "tracker.example") && !strings.Contains(strings.Join(strings.Fields(line), " "), "working 12 3 9 12s ago in 29m48s") {
			t.Errorf("tracker line %q", line)
		}
	}

	// The tracker table stays aligned, error or not: every URL starts in
	// one column.
	col := -1
	for _, u := range []string{"http://tracker.example/announce", "udp://dead.example:1337", "udp://later.example:80"} {
		for _, line := range strings.Split(out, "\n") {
			if strings.HasSuffix(line, u) {
				if i := strings.Index(line, u); col == -1 {
					col = i
				} else if i != col {
					t.Errorf("tracker table out of line: %q starts at %d, not %d", u, i, col)
				}
			}
		}
	}

	out, _, code = gobit(t, "show", "--addr", addr, "--json", hash)
	var d session.Detail
	if err := json.Unmarshal([]byte(out), &d); code != 0 || err != nil || len(d.Trackers) != 3 || len(d.PeerList) != 3 || d.PeerList[1].Transport != "utp" || d.PeerList[1].Encryption != "plaintext" {
		t.Fatalf("show --json: exit %d, %v: %s", code, err, out)
	}

	_, errOut, code = gobit(t, "show", "--addr", addr, "ffff0000")
	if code != exitFailure || !strings.Contains(errOut, "not found") {
		t.Errorf("unknown prefix: exit %d %q", code, errOut)
	}
	_, errOut, code = gobit(t, "show", "--addr", addr)
	if code != exitUsage {
		t.Errorf("no argument: exit %d %q", code, errOut)
	}
}

func TestShowTorrentWithoutMetadata(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var b strings.Builder
	err := printDetail(&b, session.Detail{Status: session.Status{
		InfoHash: strings.Repeat("e", 40), State: session.StateMetadata, ETASeconds: -1, AddedAt: now.Add(-90 * time.Second),
	}}, now)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "show", b.String(), "(not known yet)", "metadata", "size not known yet", "1m30s ago",
		"Files (0):", "none known yet", "Trackers (0):", "none (peers come", "Peers (0):", "none connected")
}

func TestAddPausedCommand(t *testing.T) {
	clearEnv(t)
	fd, addr := startFakeDaemon(t, "")
	torrentPath, _, _ := makeTorrent(t, false)
	const hash = "abcd5678abcd5678abcd5678abcd5678abcd5678"
	out, errOut, code := gobit(t, "add", "--addr", addr, "--paused", "magnet:?xt=urn:btih:"+hash, torrentPath)
	if code != 0 {
		t.Fatalf("add --paused: exit %d: %s", code, errOut)
	}
	mustContain(t, "add --paused", out, "added paused "+hash)
	if len(fd.Adds) != 2 || !fd.Adds[0].Paused || !fd.Adds[1].Paused {
		t.Fatalf("daemon got %+v", fd.Adds)
	}
	if fd.State(hash) != session.StatePaused {
		t.Errorf("state %s", fd.State(hash))
	}
	// Without the flag: started.
	if _, _, code := gobit(t, "add", "--addr", addr, "magnet:?xt=urn:btih:"+strings.Repeat("1", 40)); code != 0 || fd.LastAdd().Paused {
		t.Errorf("add without --paused: exit %d, paused %v", code, fd.LastAdd().Paused)
	}
}
