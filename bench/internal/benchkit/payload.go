package benchkit

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// ErrMismatch reports downloaded data that differs from the payload.
var ErrMismatch = errors.New("downloaded data differs from the payload")

// PlaceholderAnnounce is the tracker URL the cached .torrent template is
// made with; each benchmark run splices in its own tracker's URL.
const PlaceholderAnnounce = "http://127.0.0.1:1/announce"

// EnsurePayload creates dir/payload-<size>.bin filled with pseudo-random
// bytes unless a file of that size is already there, and returns its path.
func EnsurePayload(dir string, size int64) (string, error) {
	path := filepath.Join(dir, fmt.Sprintf("payload-%d.bin", size))
	if fi, err := os.Stat(path); err == nil && fi.Size() == size {
		return path, nil
	}
	f, err := os.CreateTemp(dir, "payload-*.tmp")
	if err != nil {
		return "", fmt.Errorf("creating the payload: %w", err)
	}
	tmp := f.Name()
	rng := rand.NewChaCha8([32]byte{'g', 'o', 'b', 'i', 't'})
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := io.CopyN(w, rng, size); err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("writing the payload: %w", err)
	}
	return path, nil
}

// EnsureTemplate returns a .torrent for payload with piece size piece and
// the placeholder announce URL, made with mktorrent unless a template newer
// than the payload already exists.
func EnsureTemplate(payload string, piece int64) ([]byte, error) {
	if piece < 1<<15 || piece&(piece-1) != 0 {
		return nil, fmt.Errorf("piece size %d: want a power of two of at least 32 KiB", piece)
	}
	path := fmt.Sprintf("%s.%d.torrent-template", payload, piece)
	pfi, err := os.Stat(payload)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.ModTime().After(pfi.ModTime()) {
		if data, err := os.ReadFile(path); err == nil {
			return data, nil
		}
	}
	// mktorrent refuses to overwrite, and another invocation may be making
	// the same template: make it under a unique name, then rename.
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	os.Remove(tmp)
	log2 := strconv.Itoa(bits.TrailingZeros64(uint64(piece)))
	cmd := exec.Command("mktorrent", "-a", PlaceholderAnnounce, "-l", log2, "-t", "2", "-o", tmp, payload)
	if out, err := RunTimeout(cmd, 10*time.Minute); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("mktorrent: %w: %s", err, out)
	}
	data, err := os.ReadFile(tmp)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("mktorrent: %w", err)
	}
	return data, nil
}

// RunTimeout runs cmd and kills it after timeout.
func RunTimeout(cmd *exec.Cmd, timeout time.Duration) ([]byte, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.Bytes(), err
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-done
		return out.Bytes(), ErrTimeout
	}
}

// WithAnnounce returns the template with its announce URL replaced by url.
// mktorrent writes the "announce" key first (keys are sorted and there is
// no announce-list with a single -a), which is all this relies on; anything
// else is an error.
func WithAnnounce(template []byte, url string) ([]byte, error) {
	prefix := fmt.Sprintf("d8:announce%d:%s", len(PlaceholderAnnounce), PlaceholderAnnounce)
	if !bytes.HasPrefix(template, []byte(prefix)) {
		return nil, errors.New("torrent template does not start with the placeholder announce")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "d8:announce%d:%s", len(url), url)
	b.Write(template[len(prefix):])
	return b.Bytes(), nil
}

// InfoHash returns the SHA-1 of the bencoded "info" value of a top-level
// dictionary.
func InfoHash(torrent []byte) ([20]byte, error) {
	if len(torrent) == 0 || torrent[0] != 'd' {
		return [20]byte{}, errors.New("torrent: not a dictionary")
	}
	i := 1
	for i < len(torrent) && torrent[i] != 'e' {
		kEnd, err := skipValue(torrent, i)
		if err != nil {
			return [20]byte{}, err
		}
		key := torrent[i:kEnd]
		vEnd, err := skipValue(torrent, kEnd)
		if err != nil {
			return [20]byte{}, err
		}
		if string(key) == "4:info" {
			return sha1.Sum(torrent[kEnd:vEnd]), nil
		}
		i = vEnd
	}
	return [20]byte{}, errors.New("torrent: no info dictionary")
}

// skipValue returns the index just past the bencoded value at b[i:].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("bencode: truncated")
	}
	switch c := b[i]; {
	case c == 'i':
		j := bytes.IndexByte(b[i:], 'e')
		if j < 0 {
			return 0, errors.New("bencode: unterminated integer")
		}
		return i + j + 1, nil
	case c == 'l' || c == 'd':
		i++
		for i < len(b) && b[i] != 'e' {
			var err error
			if i, err = skipValue(b, i); err != nil {
				return 0, err
			}
		}
		if i >= len(b) {
			return 0, errors.New("bencode: unterminated list or dictionary")
		}
		return i + 1, nil
	case c >= '0' && c <= '9':
		j := bytes.IndexByte(b[i:], ':')
		if j < 0 {
			return 0, errors.New("bencode: string without ':'")
		}
		n, err := strconv.Atoi(string(b[i : i+j]))
		if err != nil || n < 0 || i+j+1+n > len(b) {
			return 0, fmt.Errorf("bencode: bad string length %q", b[i:i+j])
		}
		return i + j + 1 + n, nil
	default:
		return 0, fmt.Errorf("bencode: unexpected byte %q at %d", c, i)
	}
}

// Verify compares got with the payload want byte for byte.
func Verify(got, want string) error {
	gf, err := os.Open(got)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMismatch, err)
	}
	defer gf.Close()
	wf, err := os.Open(want)
	if err != nil {
		return fmt.Errorf("opening the payload: %w", err)
	}
	defer wf.Close()
	gb, wb := make([]byte, 4<<20), make([]byte, 4<<20)
	var off int64
	for {
		wn, werr := io.ReadFull(wf, wb)
		gn, gerr := io.ReadFull(gf, gb)
		if wn != gn || !bytes.Equal(gb[:gn], wb[:wn]) {
			return fmt.Errorf("%w: %s differs in the 4 MiB block at offset %d", ErrMismatch, got, off)
		}
		off += int64(wn)
		if werr == io.EOF || werr == io.ErrUnexpectedEOF {
			if gerr != werr {
				return fmt.Errorf("%w: %s is longer than the payload", ErrMismatch, got)
			}
			return nil
		}
		if werr != nil {
			return fmt.Errorf("reading the payload: %w", werr)
		}
		if gerr != nil {
			return fmt.Errorf("%w: reading %s: %w", ErrMismatch, got, gerr)
		}
	}
}
