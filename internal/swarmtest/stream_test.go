package swarmtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/api"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/torrent"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// rangeGet asks the stream URL for one Range and returns the status, the
// headers and the body.
func rangeGet(t *testing.T, url string, headers map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 90 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s %v: reading the body: %v", url, headers, err)
	}
	return resp.StatusCode, resp.Header, body
}

// TestStreamWhileDownloading: a file is served over HTTP while its torrent
// downloads from a rate-limited seeder: a read at the end (a player
// looking for the index), random ranges, several ranges at once and
// If-Range all return the file's bytes, before the download has finished.
func TestStreamWhileDownloading(t *testing.T) {
	tr := trackertest.New(t)
	dir := t.TempDir()
	const size = 6 << 20
	root := Payload(t, filepath.Join(dir, "seed"), "show", 31, map[string]int{
		"a-intro.txt": 100_003, "episode.webm": size,
	})
	data, mi := MakeTorrent(t, root, 64<<10, tr.HTTPURL())
	hash := mi.InfoHash.String()
	want, err := os.ReadFile(filepath.Join(root, "episode.webm"))
	if err != nil {
		t.Fatal(err)
	}
	seed := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed"), UploadLimit: 1 << 20})
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, seed, hash, 30*time.Second, session.StateSeeding)

	leech := NewSession(t, filepath.Join(dir, "leech"))
	srv := httptest.NewServer(api.NewHandler(leech, api.Options{}))
	t.Cleanup(srv.Close)
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	d, err := leech.Get(hash)
	if err != nil {
		t.Fatal(err)
	}
	if d.Files[1].Path != "show/episode.webm" {
		t.Fatalf("files %+v: want episode.webm second", d.Files)
	}
	url := srv.URL + "/api/v1/torrents/" + hash + "/files/1/stream"

	// The end of the file first, as a player seeking to the index does.
	start := time.Now()
	code, h, body := rangeGet(t, url, map[string]string{"Range": "bytes=-70000"})
	ttfb := time.Since(start)
	if code != http.StatusPartialContent || !bytes.Equal(body, want[size-70000:]) {
		t.Fatalf("suffix range: status %d, %d bytes, equal=%v", code, len(body), bytes.Equal(body, want[size-70000:]))
	}
	if got := h.Get("Content-Range"); got != fmt.Sprintf("bytes %d-%d/%d", size-70000, size-1, size) {
		t.Errorf("Content-Range %q", got)
	}
	if ct := h.Get("Content-Type"); ct != "video/webm" {
		t.Errorf("Content-Type %q, want video/webm", ct)
	}
	st := Status(t, leech, hash)
	t.Logf("last 70000 bytes in %v; torrent %.0f%% done then", ttfb, st.Progress*100)
	if st.Progress >= 1 {
		t.Fatal("the download finished before the stream was read: nothing was streamed")
	}
	// The window put the file's last pieces first: they came long before
	// the rest (in rarest-first order they would come at a random time).
	if st.Progress >= 0.5 {
		t.Errorf("the end of the file came only at %.0f%% of the download: the stream window did not go first", st.Progress*100)
	}

	// Random ranges, open-ended ones too.
	rng := rand.New(rand.NewPCG(5, 6))
	for range 6 {
		from := rng.IntN(size)
		to := from + rng.IntN(300_000)
		hdr := fmt.Sprintf("bytes=%d-%d", from, to)
		end := min(to+1, size)
		if rng.IntN(3) == 0 {
			hdr, end = fmt.Sprintf("bytes=%d-", from), size
		}
		code, _, body := rangeGet(t, url, map[string]string{"Range": hdr})
		if code != http.StatusPartialContent || !bytes.Equal(body, want[from:end]) {
			t.Fatalf("%s: status %d, %d bytes (want %d), equal=%v", hdr, code, len(body), end-from, bytes.Equal(body, want[from:end]))
		}
	}

	// Several ranges in one request: multipart/byteranges.
	code, h, body = rangeGet(t, url, map[string]string{"Range": "bytes=10-99,4000000-4000999"})
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if code != http.StatusPartialContent || err != nil || mt != "multipart/byteranges" {
		t.Fatalf("two ranges: status %d, Content-Type %q", code, h.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for _, r := range [][2]int{{10, 100}, {4000000, 4001000}} {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(part)
		if !bytes.Equal(got, want[r[0]:r[1]]) {
			t.Fatalf("part %v: %d bytes, not the file's", r, len(got))
		}
	}

	// If-Range: the ETag matches, the range is served; a stale one gets
	// the whole file.
	etag := h.Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("ETag %q", etag)
	}
	code, _, body = rangeGet(t, url, map[string]string{"Range": "bytes=100-199", "If-Range": etag})
	if code != http.StatusPartialContent || !bytes.Equal(body, want[100:200]) {
		t.Fatalf("If-Range with the ETag: status %d, %d bytes", code, len(body))
	}
	code, _, body = rangeGet(t, url, map[string]string{"Range": "bytes=100-199", "If-Range": `"stale"`})
	if code != http.StatusOK || !bytes.Equal(body, want) {
		t.Fatalf("If-Range with a stale ETag: status %d, %d bytes, want 200 and the whole file", code, len(body))
	}
	if code, _, _ := rangeGet(t, srv.URL+"/api/v1/torrents/"+hash+"/files/2/stream", nil); code != http.StatusNotFound {
		t.Errorf("stream of file 2 of 2: status %d, want 404", code)
	}
	if code, _, _ := rangeGet(t, srv.URL+"/api/v1/torrents/"+hash+"/files/x/stream", nil); code != http.StatusBadRequest {
		t.Errorf("stream of file x: status %d, want 400", code)
	}
}

// TestStreamReadTimesOut: a read whose piece never comes fails after the
// stream timeout instead of hanging.
func TestStreamReadTimesOut(t *testing.T) {
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "src"), "lonely.bin", 3, map[string]int{"": 200 << 10})
	data, _ := MakeTorrent(t, root, 64<<10)
	leech := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "leech"), StreamTimeout: 500 * time.Millisecond})
	st, err := leech.Add(context.Background(), session.AddRequest{Torrent: data})
	if err != nil {
		t.Fatal(err)
	}
	WaitState(t, leech, st.InfoHash, 10*time.Second, session.StateDownloading)
	fs, err := leech.OpenStream(context.Background(), st.InfoHash, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	if fs.Size != 200<<10 {
		t.Fatalf("stream size %d", fs.Size)
	}
	start := time.Now()
	_, err = fs.Read(make([]byte, 1000))
	if !errors.Is(err, torrent.ErrStreamTimeout) {
		t.Fatalf("read with no peer: %v, want a timeout", err)
	}
	if el := time.Since(start); el < 400*time.Millisecond || el > 20*time.Second {
		t.Fatalf("read gave up after %v, want about the 500 ms timeout", el)
	}
	if _, err := leech.OpenStream(context.Background(), st.InfoHash, 1); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("stream of file 1 of 1: %v, want ErrNotFound", err)
	}
	// A client that goes away ends the wait at once.
	ctx, cancel := context.WithCancel(context.Background())
	fs2, err := leech.OpenStream(ctx, st.InfoHash, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fs2.Close()
	time.AfterFunc(50*time.Millisecond, cancel)
	// Canceled, not the 500 ms timeout: the wait ended with the client.
	if _, err := fs2.Read(make([]byte, 10)); !errors.Is(err, context.Canceled) {
		t.Fatalf("read after the client left: %v, want context.Canceled", err)
	}
}

// TestStreamSkippedFile: streaming a skipped file of a finished torrent
// fetches the pieces read (and the window ahead), and the torrent is
// finished again once the stream is closed.
func TestStreamSkippedFile(t *testing.T) {
	_, data, hash, root, dir := threeFiles(t, 0)
	leech := NewSession(t, filepath.Join(dir, "leech"))
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data, Only: []int{0, 2}}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, leech, hash, 30*time.Second, session.StateSeeding)
	want, err := os.ReadFile(filepath.Join(root, "b.bin"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.NewHandler(leech, api.Options{}))
	t.Cleanup(srv.Close)
	code, _, body := rangeGet(t, srv.URL+"/api/v1/torrents/"+hash+"/files/1/stream", map[string]string{"Range": "bytes=70000-70099"})
	if code != http.StatusPartialContent || !bytes.Equal(body, want[70000:70100]) {
		t.Fatalf("range of the skipped file: status %d, %d bytes", code, len(body))
	}
	st := WaitState(t, leech, hash, 30*time.Second, session.StateSeeding)
	const total = (256 + 512 + 100) << 10
	if st.Completed < total-512<<10+64<<10 {
		t.Fatalf("completed %d: want the wanted files plus at least the piece read", st.Completed)
	}
	if d, _ := leech.Get(hash); d.Files[1].Priority != "skip" {
		t.Fatalf("streaming changed the file's priority: %+v", d.Files[1])
	}
}

// TestStreamFirstUnderDownloadLimit: with our download rate limited, a
// stream opened right after the add gets its first pieces before the rest:
// nothing asked for earlier (the allowed fast set while choked, a deep
// pipeline) waits in the socket ahead of the window.
func TestStreamFirstUnderDownloadLimit(t *testing.T) {
	tr := trackertest.New(t)
	dir := t.TempDir()
	const size = 480_000
	root := Payload(t, filepath.Join(dir, "seed"), "clip.webm", 9, map[string]int{"": size})
	data, mi := MakeTorrent(t, root, 16<<10, tr.HTTPURL())
	hash := mi.InfoHash.String()
	want, err := os.ReadFile(root)
	if err != nil {
		t.Fatal(err)
	}
	seed := NewSession(t, filepath.Join(dir, "seed"))
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, seed, hash, 30*time.Second, session.StateSeeding)

	// 96 KiB/s: the whole clip takes about 5 s.
	leech := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "leech"), DownloadLimit: 96 << 10})
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	fs, err := leech.OpenStream(context.Background(), hash, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	start := time.Now()
	buf := make([]byte, 64<<10)
	if _, err := io.ReadFull(fs, buf); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if !bytes.Equal(buf, want[:len(buf)]) {
		t.Fatal("the stream's first 64 KiB differ from the file's")
	}
	st := Status(t, leech, hash)
	t.Logf("first 64 KiB (4 of 30 pieces) in %v; torrent %.0f%% done then", took, st.Progress*100)
	if st.Progress >= 0.5 {
		t.Errorf("the first 64 KiB came only at %.0f%% of the download: other pieces went first", st.Progress*100)
	}
}

// TestStreamSlowPeerDoesNotHoldTheWindow: with a fast and a very slow
// seeder, a stream's first MiB, and then a seek's, come long before the
// download is done: blocks the slow peer holds are fetched again from the
// fast one as their deadlines near, and once its rate is known the slow
// peer is not given the window's first pieces.
func TestStreamSlowPeerDoesNotHoldTheWindow(t *testing.T) {
	tr := trackertest.New(t)
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "seed"), "movie.webm", 11, map[string]int{"": 8 << 20})
	data, mi := MakeTorrent(t, root, 256<<10, tr.HTTPURL())
	hash := mi.InfoHash.String()
	want, err := os.ReadFile(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, lim := range []int64{24 << 10, 2 << 20} { // a slow and a fast seeder
		s := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed"), UploadLimit: lim})
		if _, err := s.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
			t.Fatal(err)
		}
		WaitState(t, s, hash, 30*time.Second, session.StateSeeding)
	}
	leech := NewSession(t, filepath.Join(dir, "leech"))
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	for _, off := range []int{0, 5 << 20} {
		fs, err := leech.OpenStream(context.Background(), hash, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fs.Seek(int64(off), io.SeekStart); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		buf := make([]byte, 1<<20)
		_, err = io.ReadFull(fs, buf)
		fs.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, want[off:off+len(buf)]) {
			t.Fatalf("1 MiB at %d: not the file's bytes", off)
		}
		st := Status(t, leech, hash)
		t.Logf("1 MiB at %d in %v; torrent %.0f%% done then, %d peers", off, time.Since(start), st.Progress*100, st.Peers)
		if st.Progress >= 0.6 {
			t.Errorf("1 MiB at %d came only at %.0f%% of the download", off, st.Progress*100)
		}
	}
}
