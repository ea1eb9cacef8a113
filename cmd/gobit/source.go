package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
)

// sourceKind says what a torrent argument on the command line is.
type sourceKind int

const (
	sourceFile   sourceKind = iota // a path to a .torrent file
	sourceMagnet                   // a magnet: URI
	sourceURL                      // an http(s) URL of a .torrent file
)

// Limits on fetching and reading .torrent files.
const (
	maxFetchBytes = 10 << 20 // a .torrent fetched over HTTP
	maxFileBytes  = 64 << 20 // a .torrent read from disk
	fetchTimeout  = 30 * time.Second
)

// magnetFromHash turns a bare info hash (40 hex or 32 base32 characters)
// into a magnet URI, as other clients accept one; anything else, and a
// hash-like name of an existing file, is returned unchanged.
func magnetFromHash(arg string) string {
	s := strings.TrimSpace(arg)
	if len(s) != 40 && len(s) != 32 {
		return arg
	}
	if _, err := os.Stat(arg); err == nil {
		return arg
	}
	h, err := metainfo.ParseHash(s)
	if err != nil {
		return arg
	}
	return "magnet:?xt=urn:btih:" + h.String()
}

// classify tells a magnet URI and an http(s) URL from a file path.
func classify(arg string) sourceKind {
	lower := strings.ToLower(strings.TrimSpace(arg))
	switch {
	case strings.HasPrefix(lower, "magnet:"):
		return sourceMagnet
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		return sourceURL
	}
	return sourceFile
}

// readTorrentFile reads a .torrent file from disk, refusing directories and
// files over maxFileBytes.
func readTorrentFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such file (give a .torrent file, a magnet link, an info hash or an http(s) URL)", path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a .torrent file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes: not a .torrent file", path, maxFileBytes)
	}
	return data, nil
}

// checkTorrent parses data, a .torrent file read from name (a path or a
// URL), and explains in plain words when it is not one.
func checkTorrent(name string, data []byte) (*metainfo.MetaInfo, error) {
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return nil, fmt.Errorf("%s is empty: not a .torrent file", name)
	case data[0] != 'd':
		return nil, fmt.Errorf("%s is not a .torrent file (it does not start with a bencoded dictionary)", name)
	}
	mi, err := metainfo.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid .torrent file: %w", name, err)
	}
	return mi, nil
}

// loadTorrentFile reads and checks a .torrent file.
func loadTorrentFile(path string) ([]byte, *metainfo.MetaInfo, error) {
	data, err := readTorrentFile(path)
	if err != nil {
		return nil, nil, err
	}
	mi, err := checkTorrent(path, data)
	return data, mi, err
}

// fetchTorrent downloads a .torrent file over http(s), with a timeout and a
// size cap.
func fetchTorrent(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/x-bittorrent, */*")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching %s: HTTP %s", url, resp.Status)
	}
	if resp.ContentLength > maxFetchBytes {
		return nil, fmt.Errorf("fetching %s: %d bytes is over the %d-byte limit", url, resp.ContentLength, maxFetchBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxFetchBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	if len(data) > maxFetchBytes {
		return nil, fmt.Errorf("fetching %s: more than the %d-byte limit", url, maxFetchBytes)
	}
	return data, nil
}
