package swarmtest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// benchTransport downloads a payload (GOBIT_BENCH_MIB MiB, default 32)
// between two gobit sessions on loopback, with cfg on both, b.N times.
func benchTransport(b *testing.B, cfg session.Config) {
	mib := 32
	if v, err := strconv.Atoi(os.Getenv("GOBIT_BENCH_MIB")); err == nil && v > 0 {
		mib = v
	}
	tr := trackertest.New(b)
	dir := b.TempDir()
	root := Payload(b, filepath.Join(dir, "seed"), "bench.bin", 81, map[string]int{"": mib << 20})
	data, mi := MakeTorrent(b, root, 1<<20, tr.HTTPURL())
	hash := mi.InfoHash.String()
	seedCfg := cfg
	seedCfg.DownloadDir = filepath.Join(dir, "seed")
	seedCfg.Logger = nil
	seed := NewSessionWith(b, seedCfg)
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		b.Fatal(err)
	}
	WaitState(b, seed, hash, time.Minute, session.StateSeeding)
	b.SetBytes(int64(mib) << 20)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		lc := cfg
		lc.DownloadDir = filepath.Join(dir, "leech"+strconv.Itoa(i))
		leech := NewSessionWith(b, lc)
		b.StartTimer()
		if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
			b.Fatal(err)
		}
		st := WaitState(b, leech, hash, 5*time.Minute, session.StateSeeding, session.StateError)
		b.StopTimer()
		if st.State != session.StateSeeding {
			b.Fatalf("leecher: %s %s", st.State, st.Error)
		}
		leech.Close()
		os.RemoveAll(lc.DownloadDir)
		b.StartTimer()
	}
}

// BenchmarkSessionTCP and BenchmarkSessionUTP compare the transports for
// a whole download between gobit sessions.
func BenchmarkSessionTCP(b *testing.B) { benchTransport(b, session.Config{}) }
func BenchmarkSessionUTP(b *testing.B) {
	benchTransport(b, session.Config{UTP: true, NoTCP: true})
}
