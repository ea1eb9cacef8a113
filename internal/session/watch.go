package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Watch directory.
//
// With Config.WatchDir set, a goroutine lists the directory every
// WatchInterval (default 2 s; polling, so it works on every file system
// and needs no dependency). A regular file whose name ends in .torrent or
// .magnet (any case) is taken once its size and modification time are the
// same in two polls in a row, so a file still being written is left alone.
// A .torrent file is added as is; a .magnet file holds a magnet URI (its
// first non-empty line). The file is then renamed <name>.added, or
// <name>.invalid when it cannot be added, with the reason logged. A torrent
// already in the session counts as added. Files over maxWatchFile bytes are
// invalid. Torrents added this way go to the default download directory.

// Watch defaults.
const (
	DefaultWatchInterval = 2 * time.Second
	// maxWatchFile bounds a file read from the watch directory.
	maxWatchFile = maxTorrentFetch
	// maxWatchFiles bounds the candidates remembered between polls.
	maxWatchFiles = 10000
)

// watchStamp is a candidate file's size and modification time at a poll.
type watchStamp struct {
	size  int64
	mtime time.Time
}

// startWatch checks the watch directory and starts polling it.
func (s *Session) startWatch() error {
	if s.cfg.WatchDir == "" {
		return nil
	}
	dir, err := filepath.Abs(s.cfg.WatchDir)
	if err != nil {
		return fmt.Errorf("session: watch directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("session: watch directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("session: watch directory %s is not a directory", dir)
	}
	s.wg.Add(1)
	go s.watchLoop(dir)
	s.log.Info("watching for torrent files", "dir", dir)
	return nil
}

// watchLoop polls dir until the session closes.
func (s *Session) watchLoop(dir string) {
	defer s.wg.Done()
	every := s.cfg.WatchInterval
	if every <= 0 {
		every = DefaultWatchInterval
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	seen := map[string]watchStamp{}
	for {
		select {
		case <-tick.C:
			seen = s.watchPoll(dir, seen)
		case <-s.closeC:
			return
		}
	}
}

// watchPoll takes the files of dir that are unchanged since the previous
// poll (prev) and returns this poll's stamps of the others.
func (s *Session) watchPoll(dir string, prev map[string]watchStamp) map[string]watchStamp {
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.log.Warn("cannot read the watch directory", "dir", dir, "err", err)
		return prev
	}
	next := map[string]watchStamp{}
	for _, de := range entries {
		name := de.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if ext != ".torrent" && ext != ".magnet" {
			continue
		}
		if !de.Type().IsRegular() {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			continue
		}
		st := watchStamp{size: fi.Size(), mtime: fi.ModTime()}
		if old, ok := prev[name]; !ok || old != st {
			if len(next) < maxWatchFiles {
				next[name] = st
			}
			continue
		}
		s.watchTake(dir, name, ext)
	}
	return next
}

// watchTake adds one file of the watch directory and renames it.
func (s *Session) watchTake(dir, name, ext string) {
	path := filepath.Join(dir, name)
	req, err := readWatchFile(path, ext)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var st Status
		st, err = s.Add(ctx, req)
		cancel()
		if err == nil {
			s.log.Info("added from the watch directory", "file", path, "info_hash", st.InfoHash, "name", st.Name)
		} else if errors.Is(err, ErrExists) {
			s.log.Info("watch directory file is already in the session", "file", path, "err", err)
			err = nil
		} else if errors.Is(err, ErrClosed) {
			return // leave it for the next run
		}
	}
	suffix := ".added"
	if err != nil {
		suffix = ".invalid"
		s.log.Warn("cannot add a file from the watch directory; renamed it .invalid", "file", path, "err", err)
	}
	if rerr := os.Rename(path, path+suffix); rerr != nil {
		s.log.Error("cannot rename a watch directory file", "file", path, "to", path+suffix, "err", rerr)
	}
}

// readWatchFile reads a .torrent or .magnet file into an add request.
func readWatchFile(path, ext string) (AddRequest, error) {
	f, err := os.Open(path)
	if err != nil {
		return AddRequest{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxWatchFile+1))
	if err != nil {
		return AddRequest{}, err
	}
	if len(data) > maxWatchFile {
		return AddRequest{}, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, maxWatchFile)
	}
	if ext == ".torrent" {
		return AddRequest{Torrent: data}, nil
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			if !strings.HasPrefix(strings.ToLower(line), "magnet:") {
				return AddRequest{}, fmt.Errorf("%w: a .magnet file must hold a magnet URI", ErrInvalid)
			}
			return AddRequest{URI: line}, nil
		}
	}
	return AddRequest{}, fmt.Errorf("%w: empty .magnet file", ErrInvalid)
}
