package swarmtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// TestDeletedFileUnderSeedingTorrent: a seeder whose data vanishes goes to
// the error state with a clear message when a peer asks for data, and a
// resume after the file is back recovers. The file is truncated rather than
// unlinked: on Linux an unlinked file stays readable through the handle
// storage already holds, which is not data loss.
func TestDeletedFileUnderSeedingTorrent(t *testing.T) {
	tr := trackertest.New(t)
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "seed"), "gone.bin", 21, map[string]int{"": 2 << 20})
	data, mi := MakeTorrent(t, root, 64<<10, tr.HTTPURL())
	hash := mi.InfoHash.String()
	seed := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed"), ReadCacheSize: -1})
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, seed, hash, 10*time.Second, session.StateSeeding)
	saved, _ := os.ReadFile(root)
	if err := os.Truncate(root, 0); err != nil {
		t.Fatal(err)
	}

	leech := NewSession(t, filepath.Join(dir, "leech"))
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, seed, hash, 20*time.Second, session.StateError)
	if !strings.Contains(st.Error, "gone.bin") {
		t.Errorf("error message %q does not name the file", st.Error)
	}
	if err := os.WriteFile(root, saved, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := seed.Resume(hash); err != nil {
		t.Fatal(err)
	}
	WaitState(t, seed, hash, 10*time.Second, session.StateSeeding)
	WaitState(t, leech, hash, 30*time.Second, session.StateSeeding)
	SameTree(t, filepath.Dir(root), filepath.Join(dir, "leech"))
}

// TestMoveWhileSeeding: the files move to a new directory and the torrent
// keeps seeding from there without re-downloading.
func TestMoveWhileSeeding(t *testing.T) {
	tr := trackertest.New(t)
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "a"), "mv", 22, map[string]int{"x.bin": 300000, "sub/y.bin": 200000})
	data, mi := MakeTorrent(t, root, 32<<10, tr.HTTPURL())
	hash := mi.InfoHash.String()
	seed := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "a")})
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, seed, hash, 10*time.Second, session.StateSeeding)
	to := filepath.Join(dir, "b")
	if err := seed.Move(hash, to); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, seed, hash, 10*time.Second, session.StateSeeding)
	if st.SaveDir != to {
		t.Errorf("save dir %q after move, want %q", st.SaveDir, to)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("old files still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(to, "mv", "sub", "y.bin")); err != nil {
		t.Fatalf("moved file missing: %v", err)
	}
	leech := NewSession(t, filepath.Join(dir, "leech"))
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, leech, hash, 30*time.Second, session.StateSeeding)
	SameTree(t, filepath.Join(to, "mv"), filepath.Join(dir, "leech", "mv"))
	if err := seed.Move(hash, ""); err == nil {
		t.Error("move to an empty path accepted")
	}
}

// TestDiskFull: a torrent whose save directory is on a full file system
// stops with an error saying so, another torrent in the same session keeps
// going, and after space is made the torrent resumes and completes. It needs
// root for a small tmpfs (as in CI).
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		if testutil.InCI() {
			t.Fatal("the disk-full test needs root for a tmpfs mount under CI")
		}
		t.Skip("needs root to mount a small tmpfs")
	}
	mount := testutil.NeedProgram(t, "mount", "mount")
	tr := trackertest.New(t)
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.MkdirAll(small, 0o755)
	if out, err := exec.Command(mount, "-t", "tmpfs", "-o", "size=1m", "tmpfs", small).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", small).Run() })

	big := Payload(t, filepath.Join(dir, "seed"), "big.bin", 31, map[string]int{"": 3 << 20})
	bigData, bigMI := MakeTorrent(t, big, 64<<10, tr.HTTPURL())
	other := Payload(t, filepath.Join(dir, "seed"), "other.bin", 32, map[string]int{"": 1 << 20})
	otherData, otherMI := MakeTorrent(t, other, 64<<10, tr.HTTPURL())
	seed := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed")})
	for _, d := range [][]byte{bigData, otherData} {
		if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: d}); err != nil {
			t.Fatal(err)
		}
	}
	WaitState(t, seed, bigMI.InfoHash.String(), 10*time.Second, session.StateSeeding)
	WaitState(t, seed, otherMI.InfoHash.String(), 10*time.Second, session.StateSeeding)

	leech := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "leech")})
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: bigData, DownloadDir: small}); err != nil {
		t.Fatal(err)
	}
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: otherData}); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, leech, bigMI.InfoHash.String(), 30*time.Second, session.StateError)
	if !strings.Contains(st.Error, "no space left") {
		t.Errorf("error %q does not say the disk is full", st.Error)
	}
	WaitState(t, leech, otherMI.InfoHash.String(), 30*time.Second, session.StateSeeding)
	SameTree(t, other, filepath.Join(dir, "leech", "other.bin"))

	if out, err := exec.Command(mount, "-o", "remount,size=16m", small).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v: %s", err, out)
	}
	if err := leech.Resume(bigMI.InfoHash.String()); err != nil {
		t.Fatal(err)
	}
	WaitState(t, leech, bigMI.InfoHash.String(), 30*time.Second, session.StateSeeding)
	got, _ := os.ReadFile(filepath.Join(small, "big.bin"))
	want, _ := os.ReadFile(big)
	if string(got) != string(want) {
		t.Fatal("data differs after recovering from a full disk")
	}
}

// TestSaveDirVanishes: the save directory is deleted while downloading; the
// torrent stops with an error naming the problem, and resumes once the
// directory is back.
func TestSaveDirVanishes(t *testing.T) {
	tr := trackertest.New(t)
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "seed"), "v.bin", 71, map[string]int{"": 4 << 20})
	data, mi := MakeTorrent(t, root, 64<<10, tr.HTTPURL())
	hash := mi.InfoHash.String()
	seed := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed"), UploadLimit: 1 << 20})
	seed.Add(context.Background(), session.AddRequest{Torrent: data})
	WaitState(t, seed, hash, 10*time.Second, session.StateSeeding)

	save := filepath.Join(dir, "leech")
	leech := NewSessionWith(t, session.Config{DownloadDir: save})
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "some progress", func() bool {
		st, _ := leech.Get(hash)
		return st.Progress > 0
	})
	if err := os.RemoveAll(save); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, leech, hash, 20*time.Second, session.StateError)
	if st.Error == "" {
		t.Fatal("error state without a message")
	}
	t.Logf("error after the save dir vanished: %s", st.Error)
	if err := os.MkdirAll(save, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := leech.Resume(hash); err != nil {
		t.Fatal(err)
	}
	WaitState(t, leech, hash, 30*time.Second, session.StateSeeding)
	SameTree(t, filepath.Dir(root), save)
}

// TestWriteNotPermitted: a torrent whose file cannot be written (permission
// denied; as root, where permissions do not bind, an immutable file) stops
// with an error saying so, and resumes once writing is allowed again.
func TestWriteNotPermitted(t *testing.T) {
	tr := trackertest.New(t)
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "seed"), "ro.bin", 91, map[string]int{"": 1 << 20})
	data, mi := MakeTorrent(t, root, 64<<10, tr.HTTPURL())
	hash := mi.InfoHash.String()
	seed := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed")})
	seed.Add(context.Background(), session.AddRequest{Torrent: data})
	WaitState(t, seed, hash, 10*time.Second, session.StateSeeding)

	save := filepath.Join(dir, "leech")
	target := filepath.Join(save, "ro.bin")
	os.MkdirAll(save, 0o755)
	if err := os.WriteFile(target, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var lock, unlock func() error
	if os.Geteuid() == 0 {
		chattr := testutil.NeedProgram(t, "chattr", "e2fsprogs")
		lock = func() error { return exec.Command(chattr, "+i", target).Run() }
		unlock = func() error { return exec.Command(chattr, "-i", target).Run() }
	} else {
		lock = func() error { return os.Chmod(target, 0o444) }
		unlock = func() error { return os.Chmod(target, 0o644) }
	}
	if err := lock(); err != nil {
		t.Skipf("cannot make %s read-only here (file system without immutable files?): %v", target, err)
	}
	t.Cleanup(func() { unlock() })

	leech := NewSessionWith(t, session.Config{DownloadDir: save})
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, leech, hash, 20*time.Second, session.StateError)
	if !strings.Contains(st.Error, "not permitted") && !strings.Contains(st.Error, "permission denied") {
		t.Errorf("error %q does not say writing was refused", st.Error)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := leech.Resume(hash); err != nil {
		t.Fatal(err)
	}
	WaitState(t, leech, hash, 30*time.Second, session.StateSeeding)
	SameTree(t, filepath.Dir(root), save)
}
