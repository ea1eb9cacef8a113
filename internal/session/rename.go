package session

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/storage"
	"github.com/gobit/gobit/internal/store"
	"github.com/gobit/gobit/internal/torrent"
)

// MaxDisplayNameLength bounds a torrent's display name, in bytes.
const MaxDisplayNameLength = 1024

// checkDisplayName refuses a display name that is too long, not UTF-8 or
// holds control characters.
func checkDisplayName(n string) error {
	if len(n) > MaxDisplayNameLength {
		return fmt.Errorf("%w: name: %d bytes, at most %d", ErrInvalid, len(n), MaxDisplayNameLength)
	}
	if !utf8.ValidString(n) || strings.IndexFunc(n, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: name: not UTF-8 text without control characters", ErrInvalid)
	}
	return nil
}

// displayName is the display name to keep for a requested name n: none
// when n is blank or the torrent's own name.
func displayName(n, own string) string {
	if strings.TrimSpace(n) == "" || n == own {
		return ""
	}
	return n
}

// setName sets e's display name ("" for none).
func (e *entry) setName(n string) {
	if n == "" {
		e.name.Store(nil)
		return
	}
	e.name.Store(&n)
}

// RenameFile moves one of a torrent's files, by file index (as in
// Detail.Files), to newPath, relative to the torrent's save directory with
// '/' between components: the file on disk is renamed (if it exists yet)
// and the torrent reads and writes it there from now on, also after a
// restart. It works while the torrent runs. The change is saved first.
//
// Errors: ErrInvalid for a path that could leave the save directory
// (absolute, "..", empty components; see metainfo.SanitizePath) or an index
// beyond the files; ErrConflict when something already exists at the new
// path, when two files would share a path, before the metadata is known and
// while the torrent's files are being moved or checked.
func (s *Session) RenameFile(infoHash string, index int, newPath string) (Detail, error) {
	to, err := sanitizeUserPath("path", newPath)
	if err != nil {
		return Detail{}, err
	}
	if index < 0 || index >= maxFileIndex {
		return Detail{}, fmt.Errorf("%w: file index %d out of range", ErrInvalid, index)
	}
	return s.rename(infoHash, func(cur []string) (map[int]string, error) {
		if index >= len(cur) {
			return nil, fmt.Errorf("%w: file index %d: the torrent has %d files", ErrInvalid, index, len(cur))
		}
		return map[int]string{index: to}, nil
	})
}

// RenamePath moves a file or a folder of a torrent's files, named by its
// path relative to the save directory ('/' between components, as
// Detail.Files shows it), to a new path: every file at from, or under
// from/, gets to in place of from. The same rules and errors as RenameFile
// apply; a from that names no file or folder of the torrent is ErrInvalid.
func (s *Session) RenamePath(infoHash, from, to string) (Detail, error) {
	src, err := sanitizeUserPath("from", from)
	if err != nil {
		return Detail{}, err
	}
	dst, err := sanitizeUserPath("to", to)
	if err != nil {
		return Detail{}, err
	}
	return s.rename(infoHash, func(cur []string) (map[int]string, error) {
		return renamesFor(cur, src, dst)
	})
}

// renamesFor returns the new paths, by file index, of the files at src or
// under src (a folder) when src becomes dst.
func renamesFor(cur []string, src, dst string) (map[int]string, error) {
	out := make(map[int]string)
	prefix := src + string(filepath.Separator)
	for i, p := range cur {
		switch {
		case p == src:
			out[i] = dst
		case strings.HasPrefix(p, prefix):
			out[i] = dst + p[len(src):]
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no file or folder %q in the torrent", ErrInvalid, filepath.ToSlash(src))
	}
	return out, nil
}

// sanitizeUserPath checks a relative path from a request (field names it
// in errors).
func sanitizeUserPath(field, p string) (string, error) {
	out, err := metainfo.SanitizePath(p)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrInvalid, field, err)
	}
	return out, nil
}

// rename renames the files plan picks (by file index, from their current
// paths): the record with the files' new paths is saved, then the torrent
// renames them; on failure the record is put back.
func (s *Session) rename(infoHash string, plan func(cur []string) (map[int]string, error)) (Detail, error) {
	e, err := s.lookup(infoHash)
	if err != nil {
		return Detail{}, err
	}
	err = s.changePlanned(e, "files not renamed", func() (func(*store.Torrent), func() error, error) {
		cur, orig, err := e.t.FileNames()
		if err != nil {
			return nil, nil, renameErr(err)
		}
		ren, err := plan(cur)
		if err != nil {
			return nil, nil, err
		}
		overrides := make(map[int]string)
		for i := range cur {
			p := cur[i]
			if n, ok := ren[i]; ok {
				p = n
			}
			if p != orig[i] {
				overrides[i] = p
			}
		}
		if len(overrides) == 0 {
			overrides = nil
		}
		edit := func(r *store.Torrent) { r.FilePaths = overrides }
		apply := func() error { return renameErr(e.t.RenameFiles(ren)) }
		return edit, apply, nil
	})
	if err != nil {
		return Detail{}, err
	}
	return s.Get(infoHash)
}

// renameErr maps the torrent's and the storage's errors to the session's.
func renameErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, torrent.ErrNoMetadata):
		return fmt.Errorf("%w: the torrent's metadata is not known yet", ErrConflict)
	case errors.Is(err, torrent.ErrBusy), errors.Is(err, storage.ErrExists), errors.Is(err, storage.ErrInvalidLayout):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case errors.Is(err, torrent.ErrFileIndex), errors.Is(err, storage.ErrOutsideDir):
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return err
}

// contentPath is Status.ContentPath for a torrent saved in saveDir.
func contentPath(saveDir string, st torrent.Stats) string {
	if !st.HaveInfo {
		return ""
	}
	return filepath.Join(saveDir, st.Root)
}
