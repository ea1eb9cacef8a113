// Package apitest provides an in-memory api.Backend for tests of the HTTP
// API and of the commands that talk to it.
package apitest

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/gobit/gobit/internal/dht"
	"github.com/gobit/gobit/internal/session"
)

// Backend is an in-memory api.Backend. A magnet's hash is taken from its xt
// parameter and its name from dn ("from-magnet" without one); an https URL
// is hashed as a string ("from-url"); .torrent bytes (starting with 'd') are
// hashed as bytes ("from-file"). A torrent added paused starts in state
// paused, any other in state downloading. A URI containing "boom" fails with a plain
// error, one containing "panic" panics. Its exported fields may be read by
// tests once the requests that change them have returned.
type Backend struct {
	// Template holds the figures every added torrent starts with (name,
	// hash, state and save dir are filled in).
	Template session.Status
	// NilLists makes List and new torrents' file lists nil, to test that
	// the API never sends null.
	NilLists bool
	// Adds records every add request; Removed maps removed hashes to their
	// delete-data flag.
	Adds    []session.AddRequest
	Removed map[string]bool

	mu     sync.Mutex
	order  []string
	byHash map[string]*session.Detail
	// events publishes adds, removes and state changes (Subscribe).
	events *session.Broker
}

// New returns an empty Backend whose torrents start a quarter done with a
// 90 s ETA.
func New() *Backend {
	return &Backend{
		Template: session.Status{ETASeconds: 90, TotalSize: 1000, Completed: 250, Progress: 0.25},
		Removed:  map[string]bool{},
		byHash:   map[string]*session.Detail{},
		events:   session.NewBroker(session.BrokerConfig{}),
	}
}

// Add implements api.Backend.
func (f *Backend) Add(_ context.Context, req session.AddRequest) (session.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Adds = append(f.Adds, req)
	var hash, name string
	switch {
	case strings.Contains(req.URI, "panic"):
		panic("fake backend panic")
	case strings.Contains(req.URI, "boom"):
		return session.Status{}, errors.New("disk on fire")
	case strings.HasPrefix(req.URI, "magnet:?xt=urn:btih:"):
		rest := strings.TrimPrefix(req.URI, "magnet:?xt=urn:btih:")
		h, _, _ := strings.Cut(rest, "&")
		if _, err := hex.DecodeString(h); err != nil || len(h) != 40 {
			return session.Status{}, fmt.Errorf("parsing magnet: bad btih %q: %w", h, session.ErrInvalid)
		}
		hash, name = strings.ToLower(h), "from-magnet"
		if _, n, ok := strings.Cut(rest, "&dn="); ok {
			name, _, _ = strings.Cut(n, "&")
		}
	case strings.HasPrefix(req.URI, "https://"):
		sum := sha1.Sum([]byte(req.URI))
		hash, name = hex.EncodeToString(sum[:]), "from-url"
	case len(req.Torrent) > 0 && req.Torrent[0] == 'd':
		sum := sha1.Sum(req.Torrent)
		hash, name = hex.EncodeToString(sum[:]), "from-file"
	default:
		return session.Status{}, fmt.Errorf("unsupported input: %w", session.ErrInvalid)
	}
	if _, ok := f.byHash[hash]; ok {
		return session.Status{}, fmt.Errorf("adding %s: %w", hash, session.ErrExists)
	}
	st := f.Template
	st.InfoHash, st.Name, st.State, st.SaveDir = hash, name, session.StateDownloading, req.DownloadDir
	if req.Paused {
		st.State = session.StatePaused
	}
	d := &session.Detail{Status: st}
	if !f.NilLists {
		d.Files = []session.FileStatus{{Path: "a.bin", Size: st.TotalSize}}
	}
	f.byHash[hash] = d
	f.order = append(f.order, hash)
	f.events.Added(d.Status)
	return d.Status, nil
}

// AddMany implements api.Backend: Add for each request, in order.
func (f *Backend) AddMany(ctx context.Context, reqs []session.AddRequest) ([]session.Status, []error) {
	sts, errs := make([]session.Status, len(reqs)), make([]error, len(reqs))
	for i, r := range reqs {
		sts[i], errs[i] = f.Add(ctx, r)
	}
	return sts, errs
}

// List returns every torrent's status (nil with NilLists).
func (f *Backend) List() []session.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.NilLists {
		return nil
	}
	out := make([]session.Status, 0, len(f.order))
	for _, h := range f.order {
		out = append(out, f.byHash[h].Status)
	}
	return out
}

// ListShared implements api.Backend: pointers to copies made for the call.
func (f *Backend) ListShared() []*session.Status {
	l := f.List()
	if l == nil {
		return nil
	}
	out := make([]*session.Status, len(l))
	for i := range l {
		out[i] = &l[i]
	}
	return out
}

// Get implements api.Backend.
func (f *Backend) Get(infoHash string) (session.Detail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.byHash[infoHash]
	if !ok {
		return session.Detail{}, fmt.Errorf("get %s: %w", infoHash, session.ErrNotFound)
	}
	return *d, nil
}

// SetDetail changes the stored detail of a torrent (files, trackers,
// peers, figures) through fn; it reports whether the torrent exists.
func (f *Backend) SetDetail(infoHash string, fn func(d *session.Detail)) bool {
	return f.update(infoHash, fn) == nil
}

// State returns a torrent's state ("" if unknown).
func (f *Backend) State(infoHash string) session.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.byHash[infoHash]; ok {
		return d.State
	}
	return ""
}

// LastAdd returns the most recent add request.
func (f *Backend) LastAdd() session.AddRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.Adds) == 0 {
		return session.AddRequest{}
	}
	return f.Adds[len(f.Adds)-1]
}

func (f *Backend) update(infoHash string, fn func(d *session.Detail)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.byHash[infoHash]
	if !ok {
		return fmt.Errorf("%s: %w", infoHash, session.ErrNotFound)
	}
	fn(d)
	f.events.Update([]session.Status{d.Status})
	f.events.PublishStats()
	return nil
}

func (f *Backend) setState(infoHash string, s session.State) error {
	return f.update(infoHash, func(d *session.Detail) { d.State = s })
}

// Pause implements api.Backend.
func (f *Backend) Pause(infoHash string) error { return f.setState(infoHash, session.StatePaused) }

// Resume implements api.Backend.
func (f *Backend) Resume(infoHash string) error {
	return f.setState(infoHash, session.StateDownloading)
}

// Recheck implements api.Backend.
func (f *Backend) Recheck(infoHash string) error {
	return f.setState(infoHash, session.StateChecking)
}

// Move implements api.Backend.
func (f *Backend) Move(infoHash, dir string) error {
	return f.update(infoHash, func(d *session.Detail) { d.SaveDir = dir })
}

// Remove implements api.Backend.
func (f *Backend) Remove(infoHash string, deleteData bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.byHash[infoHash]; !ok {
		return fmt.Errorf("remove %s: %w", infoHash, session.ErrNotFound)
	}
	delete(f.byHash, infoHash)
	for i, h := range f.order {
		if h == infoHash {
			f.order = append(f.order[:i], f.order[i+1:]...)
			break
		}
	}
	f.Removed[infoHash] = deleteData
	f.events.Removed(infoHash)
	return nil
}

// Subscribe implements api.Backend: adds, removes and every change made
// through the Backend (a state change is a torrent-state event, followed by
// session-stats) are published as they happen.
func (f *Backend) Subscribe() (*session.Subscription, error) { return f.events.Subscribe() }

// CloseEvents ends every event subscription, as a daemon shutting down
// does.
func (f *Backend) CloseEvents() { f.events.Close() }

// UpdateTorrent implements api.Backend (only the upload limit is kept).
func (f *Backend) UpdateTorrent(infoHash string, u session.TorrentUpdate) (session.Status, error) {
	var st session.Status
	err := f.update(infoHash, func(d *session.Detail) {
		if u.UploadLimit != nil {
			d.UploadLimit = *u.UploadLimit
		}
		st = d.Status
	})
	return st, err
}

// Settings implements api.Backend.
func (f *Backend) Settings() session.Settings { return session.Settings{} }

// UpdateSettings implements api.Backend.
func (f *Backend) UpdateSettings(session.SettingsUpdate) (session.Settings, error) {
	return session.Settings{}, nil
}

// DHTStats implements api.Backend: the fake has no DHT.
func (f *Backend) DHTStats() (dht.Stats, bool) { return dht.Stats{}, false }

// SetFilePriorities implements api.Backend: the named files of the stored
// detail get the priorities (an index beyond its files is ErrInvalid).
func (f *Backend) SetFilePriorities(infoHash string, prio map[int]string) (session.Detail, error) {
	var out session.Detail
	var bad error
	err := f.update(infoHash, func(d *session.Detail) {
		for i := range prio {
			if i >= len(d.Files) {
				bad = fmt.Errorf("file %d of %d: %w", i, len(d.Files), session.ErrInvalid)
				return
			}
		}
		for i, p := range prio {
			d.Files[i].Priority = p
		}
		out = *d
	})
	if err != nil {
		return session.Detail{}, err
	}
	return out, bad
}

// Pieces implements api.Backend: a torrent of 10 pieces with the first
// three verified.
func (f *Backend) Pieces(infoHash string) (session.PieceMap, error) {
	if err := f.update(infoHash, func(*session.Detail) {}); err != nil {
		return session.PieceMap{}, err
	}
	return session.PieceMap{Pieces: 10, Have: []byte{0xe0, 0}}, nil
}

// OpenStream implements api.Backend: file i of a torrent holds the bytes
// of its path repeated up to its size.
func (f *Backend) OpenStream(_ context.Context, infoHash string, index int) (*session.FileStream, error) {
	d, err := f.Get(infoHash)
	if err != nil {
		return nil, err
	}
	if index < 0 || index >= len(d.Files) {
		return nil, fmt.Errorf("file %d: %w", index, session.ErrNotFound)
	}
	fl := d.Files[index]
	data := bytes.Repeat([]byte(fl.Path), int(fl.Size)/max(len(fl.Path), 1)+1)[:fl.Size]
	return &session.FileStream{ReadSeekCloser: nopCloser{bytes.NewReader(data)}, Path: fl.Path, Size: fl.Size}, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// RenameFile implements api.Renamer: file index of the stored detail gets
// path newPath (an index beyond its files is ErrInvalid).
func (f *Backend) RenameFile(infoHash string, index int, newPath string) (session.Detail, error) {
	var out session.Detail
	var bad error
	err := f.update(infoHash, func(d *session.Detail) {
		if index < 0 || index >= len(d.Files) {
			bad = fmt.Errorf("file %d of %d: %w", index, len(d.Files), session.ErrInvalid)
			return
		}
		d.Files[index].Path = newPath
		out = *d
	})
	if err != nil {
		return session.Detail{}, err
	}
	return out, bad
}

// RenamePath implements api.Renamer: every file of the stored detail at
// from or under from/ gets to in its place (none is ErrInvalid).
func (f *Backend) RenamePath(infoHash, from, to string) (session.Detail, error) {
	var out session.Detail
	var bad error
	err := f.update(infoHash, func(d *session.Detail) {
		n := 0
		for i, fs := range d.Files {
			if fs.Path == from || strings.HasPrefix(fs.Path, from+"/") {
				d.Files[i].Path = to + fs.Path[len(from):]
				n++
			}
		}
		if n == 0 {
			bad = fmt.Errorf("no file or folder %q: %w", from, session.ErrInvalid)
		}
		out = *d
	})
	if err != nil {
		return session.Detail{}, err
	}
	return out, bad
}
