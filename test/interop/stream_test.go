package interop

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/api"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/swarmtest"
	"github.com/gobit/gobit/internal/testutil"
)

// streamSwarm is a two-file torrent ("show/intro.txt", then the video
// "show/movie.webm", file index 1) seeded by libtorrent with a capped
// upload rate, so that a gobit leecher downloads it for several seconds.
type streamSwarm struct {
	sw   *swarm
	want []byte // the video's bytes
}

// startStreamSwarm writes the payload (a video of size bytes), makes its
// torrent with pieces of pieceLen bytes, and starts a libtorrent seeder
// that uploads at most upload bytes per second.
func startStreamSwarm(t *testing.T, size int, pieceLen int64, upload int) *streamSwarm {
	t.Helper()
	testutil.NeedPythonModule(t, "libtorrent", "python3-libtorrent")
	announce, _, whitelist := testutil.StartOpentracker(t)
	sw := &swarm{dir: filepath.Join(t.TempDir(), "seed"), announce: announce}
	sw.root = swarmtest.Payload(t, sw.dir, "show", seedFor(t.Name()), map[string]int{
		"intro.txt": 100_003, "movie.webm": size,
	})
	sw.torrent, sw.mi = swarmtest.MakeTorrent(t, sw.root, pieceLen, announce)
	sw.torrentPath = filepath.Join(t.TempDir(), "show.torrent")
	if err := os.WriteFile(sw.torrentPath, sw.torrent, 0o644); err != nil {
		t.Fatal(err)
	}
	whitelist(sw.mi.InfoHash)
	want, err := os.ReadFile(filepath.Join(sw.root, "movie.webm"))
	if err != nil {
		t.Fatal(err)
	}
	p := startLT(t, "libtorrent seeder", "seed", "--torrent", sw.torrentPath, "--save", sw.dir,
		"--upload-limit", strconv.Itoa(upload))
	p.waitOutput(t, "READY", startTimeout)
	sw.waitTracker(t, 1)
	return &streamSwarm{sw: sw, want: want}
}

// leech starts a gobit session saving into dir, with the API in front of
// it, and adds the torrent; it returns the session, the video's stream URL
// and when the torrent was added.
func (ss *streamSwarm) leech(t *testing.T, dir string) (*session.Session, string, time.Time) {
	t.Helper()
	s := gobitSession(t, dir)
	srv := httptest.NewServer(api.NewHandler(s, api.Options{}))
	t.Cleanup(srv.Close)
	added := time.Now()
	gobitAdd(t, s, ss.sw, false)
	return s, srv.URL + "/api/v1/torrents/" + ss.sw.hash() + "/files/1/stream", added
}

// streamGet sends one GET with a Range header to the stream URL and returns
// the status, the body and when the body's first byte arrived.
func streamGet(t *testing.T, url, rng string) (int, []byte, time.Time) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Range", rng)
	client := &http.Client{Timeout: 2 * transferTimeout}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rng, err)
	}
	defer resp.Body.Close()
	var first time.Time
	var body bytes.Buffer
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 && first.IsZero() {
			first = time.Now()
		}
		body.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("GET %s: reading the body after %d bytes: %v", rng, body.Len(), err)
		}
	}
	return resp.StatusCode, body.Bytes(), first
}

// TestStreamFromLibtorrent reads a video through the HTTP stream URL while
// gobit is still downloading it from a rate-capped libtorrent seeder:
// random ranges, a seek to the end, suffix and open-ended ranges all return
// exactly the file's bytes.
func TestStreamFromLibtorrent(t *testing.T) {
	skipShort(t)
	const size = 24 << 20
	ss := startStreamSwarm(t, size, 256<<10, 3<<20)
	dir := t.TempDir()
	s, url, _ := ss.leech(t, dir)
	want := ss.want

	type read struct {
		hdr      string
		from, to int // the bytes [from, to) expected
	}
	reads := []read{
		{"bytes=0-99999", 0, 100_000},                                  // the start, as a player opens
		{"bytes=-70000", size - 70_000, size},                          // the index at the end
		{fmt.Sprintf("bytes=%d-", size-300_000), size - 300_000, size}, // open-ended near the end
	}
	rng := rand.New(rand.NewPCG(seedFor(t.Name()), 7))
	for range 8 {
		from := rng.IntN(size)
		to := min(from+1+rng.IntN(600_000), size)
		reads = append(reads, read{fmt.Sprintf("bytes=%d-%d", from, to-1), from, to})
	}
	// An open-ended read from the middle: the rest of the file.
	mid := size/2 + rng.IntN(size/4)
	reads = append(reads, read{fmt.Sprintf("bytes=%d-", mid), mid, size})

	downloading := 0
	for i, r := range reads {
		st := swarmtest.Status(t, s, ss.sw.hash())
		if st.Progress < 1 {
			downloading++
		} else if i == 0 {
			t.Fatal("the download finished before the first read: nothing was streamed")
		}
		code, body, _ := streamGet(t, url, r.hdr)
		if code != http.StatusPartialContent || !bytes.Equal(body, want[r.from:r.to]) {
			t.Fatalf("read %d %s: status %d, %d bytes (want 206 and %d), equal=%v",
				i, r.hdr, code, len(body), r.to-r.from, bytes.Equal(body, want[r.from:r.to]))
		}
		t.Logf("read %d %s: %d bytes; torrent %.0f%% done before it", i, r.hdr, len(body), st.Progress*100)
	}
	if downloading < 3 {
		t.Errorf("only %d of %d reads started while the torrent was downloading; want at least 3", downloading, len(reads))
	}
	gobitWait(t, s, ss.sw, transferTimeout)
	got, err := os.ReadFile(filepath.Join(dir, "show", "movie.webm"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the downloaded file differs from the seeder's (err %v)", err)
	}
}

// TestStreamTimeToFirstByte measures how soon a stream's first bytes come
// when it is opened right after the torrent is added, from a libtorrent
// seeder capped so that the whole download takes several seconds: once at
// the start of the file, once at a seek near its end and once more at the
// start (a fresh leecher each time). The window of pieces ahead of the read position goes first,
// so both must come long before the download is half done.
func TestStreamTimeToFirstByte(t *testing.T) {
	skipShort(t)
	const (
		size   = 64 << 20
		upload = 8 << 20
	)
	ss := startStreamSwarm(t, size, 256<<10, upload)
	for _, c := range []struct {
		name string
		from int
	}{
		// The first leecher also pays libtorrent's start with a new
		// peer (its HaveAll and unchoke come on its half-second ticks).
		{"start", 0},
		{"seek-near-end", size - 3<<20 - 12345},
		{"start-again", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, url, added := ss.leech(t, t.TempDir())
			to := c.from + 1<<20
			code, body, first := streamGet(t, url, fmt.Sprintf("bytes=%d-%d", c.from, to-1))
			done := time.Now()
			if code != http.StatusPartialContent || !bytes.Equal(body, ss.want[c.from:to]) {
				t.Fatalf("status %d, %d bytes, equal=%v", code, len(body), bytes.Equal(body, ss.want[c.from:to]))
			}
			st := swarmtest.Status(t, s, ss.sw.hash())
			ttfb := first.Sub(added)
			t.Logf("TTFB %s: %v after the add; 1 MiB in %v; torrent %.0f%% done then (whole download about %v at the seeder's cap)",
				c.name, ttfb.Round(time.Millisecond), done.Sub(added).Round(time.Millisecond), st.Progress*100,
				time.Duration(float64(size)/upload*float64(time.Second)))
			if st.Progress >= 0.5 {
				t.Errorf("the first MiB came only at %.0f%% of the download: the stream window did not go first", st.Progress*100)
			}
		})
	}
}

// TestStreamSeekWhileDownloading measures how soon a seek's first bytes
// come while the torrent is in full flow from a capped libtorrent seeder,
// with requests for other pieces queued: each seek goes to a piece not
// downloaded yet.
func TestStreamSeekWhileDownloading(t *testing.T) {
	skipShort(t)
	const (
		size     = 64 << 20
		upload   = 8 << 20
		pieceLen = 256 << 10
	)
	ss := startStreamSwarm(t, size, pieceLen, upload)
	s, url, _ := ss.leech(t, t.TempDir())
	hash := ss.sw.hash()
	testutil.WaitFor(t, transferTimeout, "10% of the download", func() bool {
		return swarmtest.Status(t, s, hash).Progress >= 0.1
	})
	const fileOffset = 100_003 // the video follows intro.txt
	var worst time.Duration
	for _, at := range []float64{0.45, 0.7, 0.9} {
		pm, err := s.Pieces(hash)
		if err != nil {
			t.Fatal(err)
		}
		// The first piece at or after the target that is not there yet.
		from := -1
		for off := int(at * size); off < size-(1<<20); off += pieceLen {
			i := (fileOffset + off) / pieceLen
			if pm.Have[i/8]&(0x80>>(i%8)) == 0 {
				from = off
				break
			}
		}
		if from < 0 {
			t.Logf("seek to %.0f%%: every piece after it is there already", at*100)
			continue
		}
		asked := time.Now()
		code, body, first := streamGet(t, url, fmt.Sprintf("bytes=%d-%d", from, from+1<<20-1))
		if code != http.StatusPartialContent || !bytes.Equal(body, ss.want[from:from+1<<20]) {
			t.Fatalf("seek to %d: status %d, %d bytes, equal=%v", from, code, len(body), bytes.Equal(body, ss.want[from:from+1<<20]))
		}
		st := swarmtest.Status(t, s, hash)
		ttfb := first.Sub(asked)
		worst = max(worst, ttfb)
		t.Logf("TTFB seek to %d (%.0f%%) while downloading: %v; 1 MiB in %v; torrent %.0f%% done then",
			from, at*100, ttfb.Round(time.Millisecond), time.Since(asked).Round(time.Millisecond), st.Progress*100)
	}
	// At the seeder's cap a piece takes 31 ms; 10 s would mean the seek
	// waited for most of the download.
	if worst > 10*time.Second {
		t.Errorf("a seek's first byte took %v", worst)
	}
}
