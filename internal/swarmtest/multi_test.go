package swarmtest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// TestSwarmThreeLeechers starts one seeder and three leechers at once. The
// seeder has a single upload slot, so the leechers must also trade pieces
// among themselves; all must end byte-identical to the seeder.
func TestSwarmThreeLeechers(t *testing.T) {
	tr := trackertest.New(t)
	tr.SetInterval(time.Second, time.Second)
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "seed"), "multi", 21, map[string]int{"a.bin": 3 << 20, "b/c.bin": 1<<20 + 12345, "d.txt": 10})
	data, mi := MakeTorrent(t, root, 32<<10, tr.HTTPURL())
	hash := mi.InfoHash.String()

	seed := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed"), UploadSlots: 1})
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, seed, hash, 30*time.Second, session.StateSeeding)

	leechers := make([]*session.Session, 3)
	for i := range leechers {
		leechers[i] = NewSession(t, filepath.Join(dir, fmt.Sprintf("leech%d", i)))
	}
	var wg sync.WaitGroup
	for _, l := range leechers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	var uploaded int64
	for i, l := range leechers {
		st := WaitState(t, l, hash, 60*time.Second, session.StateSeeding, session.StateError)
		if st.State != session.StateSeeding {
			t.Fatalf("leecher %d ended in %s: %s", i, st.State, st.Error)
		}
	}
	for i, l := range leechers {
		st := Status(t, l, hash)
		t.Logf("leecher %d: downloaded %d, uploaded %d", i, st.Downloaded, st.Uploaded)
		uploaded += st.Uploaded
		SameTree(t, root, filepath.Join(dir, fmt.Sprintf("leech%d", i), "multi"))
	}
	if uploaded == 0 {
		t.Error("no leecher uploaded anything: they did not exchange pieces")
	}
	t.Logf("seeder uploaded %d of %d bytes", Status(t, seed, hash).Uploaded, 3*mi.Info.TotalLength())
}
