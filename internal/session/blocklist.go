package session

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobit/gobit/internal/blocklist"
)

// DefaultBlocklistPoll is how often a blocklist file is checked for
// changes (its modification time and size).
const DefaultBlocklistPoll = 10 * time.Second

// blockState is the session's IP blocklist: the list in use (swapped
// whole on reload, read without a lock), where it comes from, and the
// count of what it blocked.
type blockState struct {
	src     string
	list    atomic.Pointer[blocklist.List]
	blocked atomic.Int64

	reloadMu sync.Mutex // one load at a time
	mu       sync.Mutex // guards the fields below
	stamp    fileStamp
	loaded   time.Time
	lastErr  string
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// ErrNoBlocklist means no blocklist is configured.
var ErrNoBlocklist = errors.New("no blocklist configured (--blocklist)")

// has reports whether a is on the list, and counts it when it is.
func (b *blockState) has(a netip.Addr) bool {
	if b.list.Load().Contains(a) {
		b.blocked.Add(1)
		return true
	}
	return false
}

func (b *blockState) status(st *NetPathStatus) {
	st.Blocklist = b.src
	st.BlocklistSize = b.list.Load().Len()
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.loaded.IsZero() {
		st.BlocklistLoaded = b.loaded.UTC().Format(time.RFC3339)
	}
	st.BlocklistError = b.lastErr
}

// Blocked reports whether a peer address is on the IP blocklist; each
// address found counts as a blocked attempt.
func (s *Session) Blocked(a netip.Addr) bool { return s.block.has(a) }

// blockedConn reports whether an accepted connection comes from a blocked
// address (it is then closed before any handshake).
func (s *Session) blockedConn(nc net.Conn) bool {
	if s.block.src == "" {
		return false
	}
	if ap, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil && s.block.has(ap.Addr()) {
		s.log.Debug("incoming connection refused: blocklisted", "peer", ap)
		return true
	}
	return false
}

// ReloadBlocklist loads the blocklist again from its file or URL and
// returns its size (ranges after merging). On failure the previous list
// stays in use. ErrNoBlocklist means none is configured.
func (s *Session) ReloadBlocklist(ctx context.Context) (int, error) {
	b := &s.block
	if b.src == "" {
		return 0, ErrNoBlocklist
	}
	b.reloadMu.Lock()
	defer b.reloadMu.Unlock()
	var stamp fileStamp
	if !blocklist.IsURL(b.src) {
		if fi, err := os.Stat(b.src); err == nil {
			stamp = fileStamp{fi.ModTime(), fi.Size()}
		}
	}
	start := time.Now()
	l, st, err := blocklist.Load(ctx, b.src, s.blocklistClient())
	b.mu.Lock()
	b.stamp = stamp // a broken file is not retried until it changes again
	if err != nil {
		b.lastErr = err.Error()
		b.mu.Unlock()
		s.log.Error("blocklist not loaded; the previous list stays", "source", b.src, "err", err)
		return b.list.Load().Len(), err
	}
	b.lastErr = ""
	b.loaded = time.Now()
	b.mu.Unlock()
	b.list.Store(l)
	attrs := []any{"source", b.src, "ranges", l.Len(), "lines", st.Lines, "took", time.Since(start).Round(time.Millisecond)}
	if st.Bad > 0 {
		attrs = append(attrs, "bad_lines", st.Bad, "first_bad", st.Errors)
	}
	s.log.Info("blocklist loaded", attrs...)
	return l.Len(), nil
}

// blocklistClient fetches a blocklist URL the session's way (proxy,
// bound interface).
func (s *Session) blocklistClient() *http.Client {
	if s.net.proxy == nil && s.net.bind == nil {
		return s.cfg.HTTPClient
	}
	return s.net.httpClient(2 * time.Minute)
}

// startBlocklist loads the blocklist (a file at once, so a broken one
// fails the start; a URL in the background) and polls a file for
// changes.
func (s *Session) startBlocklist() error {
	if s.block.src == "" {
		return nil
	}
	if blocklist.IsURL(s.block.src) {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			ctx, cancel := s.untilClose(5 * time.Minute)
			defer cancel()
			s.ReloadBlocklist(ctx)
		}()
		return nil
	}
	if _, err := s.ReloadBlocklist(context.Background()); err != nil {
		return err
	}
	s.wg.Add(1)
	go s.blocklistLoop()
	return nil
}

// blocklistLoop reloads the blocklist file when its modification time or
// size changes.
func (s *Session) blocklistLoop() {
	defer s.wg.Done()
	every := s.cfg.BlocklistPoll
	if every <= 0 {
		every = DefaultBlocklistPoll
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.closeC:
			return
		case <-t.C:
		}
		fi, err := os.Stat(s.block.src)
		if err != nil {
			continue
		}
		s.block.mu.Lock()
		changed := s.block.stamp != fileStamp{fi.ModTime(), fi.Size()}
		s.block.mu.Unlock()
		if changed {
			s.ReloadBlocklist(context.Background())
		}
	}
}
