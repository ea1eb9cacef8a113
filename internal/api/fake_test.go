package api

import (
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

// fakeBackend is an in-memory Backend. A magnet's hash is taken from its
// xt parameter; a .torrent's hash is the SHA-1 of its bytes (they must
// start with 'd'). A URI containing "boom" fails with a plain error, one
// containing "panic" panics.
type fakeBackend struct {
	mu       sync.Mutex
	order    []string
	byHash   map[string]*session.Detail
	adds     []session.AddRequest
	removed  map[string]bool // hash -> deleteData
	nilLists bool
}

func newFake() *fakeBackend {
	return &fakeBackend{byHash: map[string]*session.Detail{}, removed: map[string]bool{}}
}

func (f *fakeBackend) Add(_ context.Context, req session.AddRequest) (session.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.adds = append(f.adds, req)
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
		hash = strings.ToLower(h)
		if _, n, ok := strings.Cut(rest, "&dn="); ok {
			name, _, _ = strings.Cut(n, "&")
		}
	case strings.HasPrefix(req.URI, "https://"):
		sum := sha1.Sum([]byte(req.URI))
		hash = hex.EncodeToString(sum[:])
		name = "from-url"
	case len(req.Torrent) > 0 && req.Torrent[0] == 'd':
		sum := sha1.Sum(req.Torrent)
		hash = hex.EncodeToString(sum[:])
		name = "from-file"
	default:
		return session.Status{}, fmt.Errorf("unsupported input: %w", session.ErrInvalid)
	}
	if _, ok := f.byHash[hash]; ok {
		return session.Status{}, fmt.Errorf("adding %s: %w", hash, session.ErrExists)
	}
	d := &session.Detail{Status: session.Status{
		InfoHash: hash, Name: name, State: session.StateDownloading,
		SaveDir: req.DownloadDir, ETASeconds: 90, TotalSize: 1000, Completed: 250, Progress: 0.25,
	}}
	if !f.nilLists {
		d.Files = []session.FileStatus{{Path: "a.bin", Size: 1000}}
	}
	f.byHash[hash] = d
	f.order = append(f.order, hash)
	return d.Status, nil
}

func (f *fakeBackend) List() []session.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.nilLists {
		return nil
	}
	out := make([]session.Status, 0, len(f.order))
	for _, h := range f.order {
		out = append(out, f.byHash[h].Status)
	}
	return out
}

func (f *fakeBackend) Get(infoHash string) (session.Detail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.byHash[infoHash]
	if !ok {
		return session.Detail{}, fmt.Errorf("get %s: %w", infoHash, session.ErrNotFound)
	}
	return *d, nil
}

func (f *fakeBackend) setState(infoHash string, s session.State) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.byHash[infoHash]
	if !ok {
		return fmt.Errorf("%s: %w", infoHash, session.ErrNotFound)
	}
	d.State = s
	return nil
}

func (f *fakeBackend) Pause(infoHash string) error { return f.setState(infoHash, session.StatePaused) }

func (f *fakeBackend) Resume(infoHash string) error {
	return f.setState(infoHash, session.StateDownloading)
}

func (f *fakeBackend) Remove(infoHash string, deleteData bool) error {
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
	f.removed[infoHash] = deleteData
	return nil
}

func (f *fakeBackend) lastAdd() session.AddRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.adds) == 0 {
		return session.AddRequest{}
	}
	return f.adds[len(f.adds)-1]
}

func (f *fakeBackend) UpdateTorrent(infoHash string, u session.TorrentUpdate) (session.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.byHash[infoHash]
	if !ok {
		return session.Status{}, session.ErrNotFound
	}
	if u.UploadLimit != nil {
		d.UploadLimit = *u.UploadLimit
	}
	return d.Status, nil
}

func (f *fakeBackend) Settings() session.Settings { return session.Settings{} }

func (f *fakeBackend) UpdateSettings(u session.SettingsUpdate) (session.Settings, error) {
	return session.Settings{}, nil
}

func (f *fakeBackend) Recheck(infoHash string) error {
	return f.setState(infoHash, session.StateChecking)
}

func (f *fakeBackend) Move(infoHash, dir string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.byHash[infoHash]
	if !ok {
		return session.ErrNotFound
	}
	d.SaveDir = dir
	return nil
}

func (f *fakeBackend) DHTStats() (dht.Stats, bool) { return dht.Stats{}, false }
