package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/session"
)

func TestFilesCommand(t *testing.T) {
	clearEnv(t)
	fd, addr := startFakeDaemon(t, "")
	const hash = "aaaa3333aaaa3333aaaa3333aaaa3333aaaa3333"
	torrentPath, torrentBytes, _ := makeTorrent(t, false)
	out, errOut, code := gobit(t, "add", "--addr", addr, "--only", "3,1", "--sequential", "magnet:?xt=urn:btih:"+hash, torrentPath)
	if code != 0 {
		t.Fatalf("add --only: exit %d: %s %s", code, out, errOut)
	}
	for i, a := range fd.Adds {
		if !slices.Equal(a.Only, []int{1, 3}) || !a.Sequential {
			t.Fatalf("add %d sent only %v sequential %v, want [1 3] true", i, a.Only, a.Sequential)
		}
	}
	if string(fd.Adds[1].Torrent) != string(torrentBytes) {
		t.Fatal("the .torrent with --only was not sent whole")
	}
	if _, errOut, code = gobit(t, "add", "--addr", addr, "--only", "1,x", torrentPath); code != exitUsage || !strings.Contains(errOut, "not a file index") {
		t.Fatalf("add --only 1,x: exit %d stderr %q", code, errOut)
	}

	fd.SetDetail(hash, func(d *session.Detail) {
		d.Files = []session.FileStatus{
			{Index: 0, Path: "multi/a.bin", Size: 1 << 20, Completed: 1 << 19, Progress: 0.5, Priority: "normal"},
			{Index: 1, Path: "multi/b.bin", Size: 2048, Priority: "normal"},
			{Index: 2, Path: "multi/c.bin", Size: 10, Completed: 10, Progress: 1, Priority: "normal"},
		}
	})
	out, errOut, code = gobit(t, "files", "--addr", addr, hash[:8])
	if code != 0 {
		t.Fatalf("files: exit %d: %s", code, errOut)
	}
	mustContain(t, "files output", out, "INDEX", "PRIORITY", "multi/a.bin", "50", "multi/c.bin")
	out, errOut, code = gobit(t, "files", "--addr", addr, hash, "--skip", "0,2", "--high", "1")
	if code != 0 {
		t.Fatalf("files --skip: exit %d: %s", code, errOut)
	}
	d, _ := fd.Get(hash)
	if got := []string{d.Files[0].Priority, d.Files[1].Priority, d.Files[2].Priority}; !slices.Equal(got, []string{"skip", "high", "skip"}) {
		t.Fatalf("priorities after files --skip 0,2 --high 1: %v", got)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "skip") || !strings.Contains(lines[2], "high") {
		t.Fatalf("files output after the change:\n%s", out)
	}
	if _, errOut, code = gobit(t, "files", "--addr", addr, hash, "--skip", "1", "--high", "1"); code != exitUsage {
		t.Fatalf("a file both skipped and high: exit %d stderr %q", code, errOut)
	}
	if _, errOut, code = gobit(t, "files", "--addr", addr, hash, "--low", "7"); code == 0 || !strings.Contains(errOut, "invalid") {
		t.Fatalf("file 7 of 3: exit %d stderr %q", code, errOut)
	}

	// Renames: by index, then a folder by path.
	out, errOut, code = gobit(t, "files", "--addr", addr, hash, "--rename", "1=Other/B.bin", "--rename-path", "multi=Renamed")
	if code != 0 {
		t.Fatalf("files --rename: exit %d: %s", code, errOut)
	}
	d, _ = fd.Get(hash)
	if got := []string{d.Files[0].Path, d.Files[1].Path, d.Files[2].Path}; !slices.Equal(got, []string{"Renamed/a.bin", "Other/B.bin", "Renamed/c.bin"}) {
		t.Fatalf("paths after --rename and --rename-path: %v", got)
	}
	mustContain(t, "files --rename output", out, "Renamed/a.bin", "Other/B.bin")
	for _, bad := range [][]string{{"--rename", "x=a"}, {"--rename", "1"}, {"--rename", "1="}, {"--rename-path", "a"}, {"--rename-path", "=b"}} {
		if _, errOut, code = gobit(t, append([]string{"files", "--addr", addr, hash}, bad...)...); code != exitUsage {
			t.Errorf("files %v: exit %d stderr %q, want a usage error", bad, code, errOut)
		}
	}
	if _, errOut, code = gobit(t, "files", "--addr", addr, hash, "--rename-path", "nothing=x"); code == 0 || !strings.Contains(errOut, "nothing") {
		t.Errorf("rename of a path the torrent has not: exit %d stderr %q", code, errOut)
	}
}
