package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
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
