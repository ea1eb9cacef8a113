package store

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrCorrupt reports that a file is not a usable gobit database, or that one
// record inside a database is damaged. Errors about a whole file also name
// the path.
var ErrCorrupt = errors.New("corrupt database")

// ErrNewerSchema reports a database written by a newer gobit whose schema
// this version does not understand. The file is left untouched.
var ErrNewerSchema = errors.New("database written by a newer gobit")

// ErrLocked reports that another process (or another Store in this process)
// holds the database open.
var ErrLocked = errors.New("database locked: is another gobit running?")

// ErrNotFound reports that a record the operation needs does not exist, for
// example PutResume for a torrent that was never stored.
var ErrNotFound = errors.New("not found")

// DefaultLockTimeout is how long Open waits for the database's file lock.
const DefaultLockTimeout = time.Second

// Store is an open gobit database. It is safe for concurrent use.
type Store struct {
	db   *bbolt.DB
	path string
	// group queues the writes of PutTorrent for a shared commit
	// (group.go).
	group committer
	// commits counts the write transactions committed (Commits).
	commits atomic.Uint64
}

// Commits returns how many write transactions the store has committed
// since it was opened: each is one fsync of the database file.
func (s *Store) Commits() uint64 { return s.commits.Load() }

// options are the knobs tests turn; Open uses the defaults.
type options struct {
	lockTimeout time.Duration
	// noSync skips fsync on commit; only the fuzz target sets it, to keep
	// thousands of throwaway databases from hammering a shared disk.
	noSync bool
}

// Open opens the database at path, creating it (and its parent directory,
// mode 0700) if it does not exist. It waits up to DefaultLockTimeout for the
// file lock and returns an error wrapping ErrLocked if another process holds
// it. An existing file is validated before use: a file that is not a usable
// gobit database (garbage, truncated, empty, a directory) gives an error
// wrapping ErrCorrupt; a database from a newer gobit gives ErrNewerSchema.
// Older schemas are migrated in one transaction.
func Open(path string) (*Store, error) {
	return open(path, options{lockTimeout: DefaultLockTimeout})
}

func open(path string, o options) (st *Store, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: create directory for %s: %w", path, err)
	}
	existed := false
	if fi, err := os.Stat(path); err == nil {
		existed = true
		if !fi.Mode().IsRegular() {
			return nil, corruptf(path, "not a regular file (mode %s)", fi.Mode())
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}

	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	handedOver := false
	defer func() {
		if !handedOver {
			_ = f.Close()
		}
	}()
	if err := lockFile(f, o.lockTimeout); err != nil {
		if errors.Is(err, errLockTimeout) {
			return nil, fmt.Errorf("store: %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("store: lock %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("store: stat %s: %w", path, err)
	}
	if fi.Size() == 0 && existed {
		// Our own creation writes the first pages before anyone can see the
		// file unlocked, so an empty file that was already there is damage
		// (or a crash during creation): either way nothing to keep.
		return nil, corruptf(path, "empty file")
	}
	if fi.Size() > 0 {
		if err := validateFile(f, fi.Size()); err != nil {
			return nil, corruptf(path, "%v", err)
		}
	}

	// Hand the locked file to bbolt: its own flock on the same open file
	// description succeeds at once, so there is no window in which another
	// process could take the lock between validation and use.
	bopts := &bbolt.Options{
		Timeout: o.lockTimeout,
		NoSync:  o.noSync,
		OpenFile: func(string, int, os.FileMode) (*os.File, error) {
			return f, nil
		},
	}
	var db *bbolt.DB
	func() {
		defer guard(path, &err)()
		handedOver = true // bbolt closes the file on error from here on
		db, err = bbolt.Open(path, 0o600, bopts)
	}()
	if err != nil {
		if db == nil && errors.Is(err, ErrCorrupt) {
			_ = f.Close() // bbolt panicked and never closed it
		}
		return nil, classifyOpenErr(path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// classifyOpenErr maps bbolt's open errors onto the package's sentinels.
func classifyOpenErr(path string, err error) error {
	switch {
	case errors.Is(err, ErrCorrupt):
		return err
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("store: %s: %w", path, ErrLocked)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch),
		errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrInvalidMapping):
		return corruptf(path, "%v", err)
	}
	return fmt.Errorf("store: open %s: %w", path, err)
}

// corruptf returns an error wrapping ErrCorrupt that names the file.
func corruptf(path, format string, args ...any) error {
	return fmt.Errorf("store: %s: %w: %s", path, ErrCorrupt, fmt.Sprintf(format, args...))
}

// guard turns a panic or a memory fault (bbolt reading a damaged mapped page)
// in the calling goroutine into an ErrCorrupt error. Use it as
// `defer guard(path, &err)()`.
func guard(path string, err *error) func() {
	old := debug.SetPanicOnFault(true)
	return func() {
		r := recover()
		debug.SetPanicOnFault(old)
		if r != nil {
			*err = corruptf(path, "bbolt failed: %v", r)
		}
	}
}

// OpenOrRecover opens path like Open. If the file is corrupt, it renames it to
// path+".corrupt-YYYYmmdd-HHMMSS" (adding a counter if that exists), logs a
// warning, and starts a fresh database; movedAside is where the old file went
// ("" if nothing was moved). Other errors, including ErrLocked and
// ErrNewerSchema, are returned without touching the file. A nil log means
// slog.Default().
func OpenOrRecover(path string, log *slog.Logger) (s *Store, movedAside string, err error) {
	s, err = Open(path)
	if err == nil || !errors.Is(err, ErrCorrupt) {
		return s, "", err
	}
	if log == nil {
		log = slog.Default()
	}
	base := path + ".corrupt-" + time.Now().Format("20060102-150405")
	dest := base
	for i := 1; ; i++ {
		if _, statErr := os.Lstat(dest); errors.Is(statErr, fs.ErrNotExist) {
			break
		}
		if i > 1000 {
			return nil, "", fmt.Errorf("store: no free name to move %s aside: %w", path, err)
		}
		dest = fmt.Sprintf("%s-%d", base, i)
	}
	if renameErr := os.Rename(path, dest); renameErr != nil {
		return nil, "", fmt.Errorf("store: move corrupt database aside: %w (after: %w)", renameErr, err)
	}
	log.Warn("state database was corrupt; moved it aside and started a fresh one",
		"path", path, "moved_to", dest, "error", err)
	s, err = Open(path)
	if err != nil {
		return nil, dest, err
	}
	return s, dest, nil
}

// Close closes the database, waiting for running transactions to finish.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	return nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// view runs fn in a read transaction, converting bbolt panics to ErrCorrupt.
func (s *Store) view(fn func(tx *bbolt.Tx) error) (err error) {
	defer guard(s.path, &err)()
	return s.db.View(fn)
}

// update runs fn in a write transaction, converting bbolt panics to
// ErrCorrupt. bbolt rolls the transaction back before the panic reaches us.
func (s *Store) update(fn func(tx *bbolt.Tx) error) (err error) {
	defer guard(s.path, &err)()
	err = s.db.Update(fn)
	if err == nil {
		s.commits.Add(1)
	}
	return err
}
