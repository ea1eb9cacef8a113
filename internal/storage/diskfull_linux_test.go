package storage

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/gobit/gobit/internal/diskio"
)

// TestDirectWritesOnFullDisk: on a real (ext4) file system that fills up,
// a direct, asynchronous piece write fails with ENOSPC, and what was
// written before is intact. Needs root for a loop mount; skipped otherwise.
func TestDirectWritesOnFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to loop-mount a small ext4 image")
	}
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		t.Skip("needs mkfs.ext4 (e2fsprogs)")
	}
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "img"), filepath.Join(dir, "mnt")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 4<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mkfs, "-q", "-F", img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v: %s", err, out)
	}
	os.Mkdir(mnt, 0o755)
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot loop-mount here: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })

	const pl = 1 << 20
	l := Layout{PieceLength: pl, TotalLength: 8 * pl, Files: []File{{Path: "big", Length: 8 * pl}}}
	s, err := Open(mnt, l, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first := alignedBuf(pl)
	for i := range first {
		first[i] = byte(i * 5)
	}
	if err := s.WritePiece(0, first); err != nil {
		t.Fatalf("first piece: %v", err)
	}
	var werr error
	for p := 1; p < 8 && werr == nil; p++ {
		werr = s.WritePiece(p, alignedBuf(pl))
	}
	if !errors.Is(werr, syscall.ENOSPC) {
		t.Fatalf("writing 8 MiB to a 4 MiB file system: %v, want ENOSPC", werr)
	}
	if st := s.io.Stats(); st.DirectBytes == 0 {
		t.Error("no piece was written directly")
	} else if st.Mode&diskio.Async != 0 && !st.AsyncReady {
		t.Error("the writes did not go through AIO")
	}
	got := make([]byte, pl)
	if err := s.ReadBlock(0, 0, got); err != nil || string(got) != string(first) {
		t.Fatalf("the piece written before the disk filled up: %v", err)
	}
}
