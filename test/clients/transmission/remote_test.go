package transmission

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// remote runs transmission-remote against s.
func (s *server) remote(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin := testutil.NeedProgram(t, "transmission-remote", "transmission-cli")
	full := []string{s.host}
	if s.user != "" {
		full = append(full, "-n", s.user+":"+s.pass)
	}
	return run(t, nil, bin, append(full, args...)...)
}

// must runs transmission-remote and wants success and every piece of text.
func (s *server) must(t *testing.T, args []string, want ...string) string {
	t.Helper()
	out, err := s.remote(t, args...)
	if err != nil {
		t.Fatalf("%s: transmission-remote %s: %v\n%s", s.kind, strings.Join(args, " "), err, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Fatalf("%s: transmission-remote %s: no %q in:\n%s", s.kind, strings.Join(args, " "), w, out)
		}
	}
	return out
}

// eventually repeats transmission-remote until its output has want.
func (s *server) eventually(t *testing.T, args []string, want string) {
	t.Helper()
	var last string
	ok := testutil.Eventually(60*time.Second, func() bool {
		last, _ = s.remote(t, args...)
		return strings.Contains(last, want)
	})
	if !ok {
		t.Fatalf("%s: transmission-remote %s never showed %q; last:\n%s", s.kind, strings.Join(args, " "), want, last)
	}
}

// TestTransmissionRemote drives transmission-remote through adding,
// listing, inspecting, stopping, starting, moving, finding, limiting and
// removing, against gobit and against transmission-daemon.
func TestTransmissionRemote(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			s := start(t, kind, "", "")
			f := newFixture(t, "remote-"+kind)
			f.copyData(t, s.dir)
			ok := `responded: "success"`

			s.must(t, []string{"-a", f.torrentFile}, ok)
			info := []string{"-t", f.hash, "-i"}
			s.eventually(t, info, "Percent Done: 100%")
			s.must(t, info, "Name: "+f.name, "Hash: "+f.hash, "Location: "+s.dir, "Piece Count: ")
			s.must(t, []string{"-l"}, f.name, "100%")
			s.must(t, []string{"-t", f.hash, "-f"}, f.name+" (2 files)", "a.bin", "b.txt")
			s.must(t, []string{"-t", f.hash, "-pi"}, "Address", "Client")

			magnetHash := strings.Repeat("5e", 20)
			s.must(t, []string{"-a", "magnet:?xt=urn:btih:" + magnetHash + "&dn=from-magnet"}, ok)
			s.must(t, []string{"-t", magnetHash, "-i"}, "Hash: "+magnetHash, "Magnet: magnet:?xt=urn:btih:"+magnetHash)

			s.must(t, []string{"-t", f.hash, "-S"}, ok)
			s.eventually(t, info, "State: Stopped")
			s.must(t, []string{"-t", f.hash, "-s"}, ok)
			s.eventually(t, info, "Percent Done: 100%")
			if out, _ := s.remote(t, info...); strings.Contains(out, "State: Stopped") {
				// Starting may pass through a check first.
				s.eventually(t, info, "State: ")
			}

			moved := t.TempDir()
			s.must(t, []string{"-t", f.hash, "--move", moved}, ok)
			s.eventually(t, info, "Location: "+moved)
			testutil.WaitFor(t, 60*time.Second, "the data in the new location", func() bool {
				_, err := os.Stat(filepath.Join(moved, f.name, "a.bin"))
				return err == nil
			})
			s.eventually(t, info, "Percent Done: 100%")

			found := t.TempDir()
			f.copyData(t, found)
			s.must(t, []string{"-t", f.hash, "--find", found}, ok)
			s.eventually(t, info, "Location: "+found)
			s.eventually(t, info, "Percent Done: 100%")

			s.must(t, []string{"-d", "300", "-u", "200"}, ok)
			s.must(t, []string{"-si"}, "Download speed limit: 300 kB/s", "Upload speed limit: 200 kB/s", "Download directory: "+s.dir)
			s.must(t, []string{"-D", "-U"}, ok)
			s.must(t, []string{"-si"}, "Download speed limit: Unlimited", "Upload speed limit: Unlimited")
			s.must(t, []string{"-st"}, "CURRENT SESSION", "TOTAL")

			s.must(t, []string{"-t", magnetHash, "-r"}, ok)
			s.must(t, []string{"-t", f.hash, "-rad"}, ok)
			testutil.WaitFor(t, 60*time.Second, "both torrents gone and the data deleted", func() bool {
				out, _ := s.remote(t, "-l")
				_, err := os.Stat(filepath.Join(found, f.name, "a.bin"))
				return !strings.Contains(out, f.name) && !strings.Contains(out, "from-magnet") && os.IsNotExist(err)
			})
		})
	}
}

// TestTransmissionRemoteAuth checks that transmission-remote gets in with
// the right user and password only.
func TestTransmissionRemoteAuth(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			s := start(t, kind, "alice", "s3cret")
			s.must(t, []string{"-l"}, "Sum:")
			bad := *s
			bad.pass = "wrong"
			out, err := bad.remote(t, "-l")
			if err == nil || !strings.Contains(out, "401") {
				t.Fatalf("%s: a wrong password was not refused with 401 (err %v):\n%s", kind, err, out)
			}
			anon := *s
			anon.user = ""
			if out, err := anon.remote(t, "-l"); err == nil || !strings.Contains(out, "401") {
				t.Fatalf("%s: no credentials were not refused with 401 (err %v):\n%s", kind, err, out)
			}
		})
	}
}
