package metainfo

import (
	"path/filepath"
	"runtime"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on file paths, so that a hostile torrent cannot make FileEntries
// allocate without bound.
const (
	// MaxPathLength is the longest sanitized path, in bytes, of one file
	// (name included); longer paths are rejected.
	MaxPathLength = 4096
	// MaxTotalPathBytes bounds the sum of the lengths of all sanitized
	// paths of a torrent.
	MaxTotalPathBytes = 128 << 20
)

// pathRules selects the platform-specific parts of sanitizing.
type pathRules struct {
	// windows applies the Windows rules: characters <>:"|?* are replaced,
	// reserved device names (CON, NUL, COM1, …) get a "_" prefix and a
	// trailing dot or space is replaced.
	windows bool
	// foldCase compares paths case-insensitively when looking for
	// collisions (case-insensitive file systems: Windows, macOS).
	foldCase bool
}

// hostRules are the rules for the operating system gobit runs on.
var hostRules = pathRules{
	windows:  runtime.GOOS == "windows",
	foldCase: runtime.GOOS == "windows" || runtime.GOOS == "darwin",
}

// sanitizeComponent returns the on-disk form of one path component from a
// torrent (a file name or directory name, or the torrent's name). An empty
// component returns "", true: the caller decides whether it may be dropped.
// "." and ".." return false (the caller rejects the torrent); every other
// problem is repaired by replacement.
func sanitizeComponent(c string, r pathRules) (string, bool) {
	if c == "" {
		return "", true
	}
	if c == "." || c == ".." {
		return "", false
	}
	if !utf8.ValidString(c) {
		c = strings.ToValidUTF8(c, "\uFFFD")
	}
	var b strings.Builder
	b.Grow(len(c))
	for _, ch := range c {
		switch {
		case ch == '/' || ch == '\\' || unicode.IsControl(ch):
			ch = '_'
		case r.windows && strings.ContainsRune(`<>:"|?*`, ch):
			ch = '_'
		}
		b.WriteRune(ch)
	}
	s := b.String()
	if r.windows {
		if last := s[len(s)-1]; last == '.' || last == ' ' {
			s = s[:len(s)-1] + "_"
		}
		if isWindowsReserved(s) {
			s = "_" + s
		}
	}
	return s, true
}

// windowsReserved are the device names Windows reserves in every directory,
// with or without an extension.
var windowsReserved = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true, "CONIN$": true, "CONOUT$": true,
	"COM0": true, "COM1": true, "COM2": true, "COM3": true, "COM4": true,
	"COM5": true, "COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"COM¹": true, "COM²": true, "COM³": true,
	"LPT0": true, "LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true,
	"LPT5": true, "LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true,
	"LPT¹": true, "LPT²": true, "LPT³": true,
}

// isWindowsReserved reports whether component s names a Windows device
// ("nul", "COM1.txt", "aux .tar.gz").
func isWindowsReserved(s string) bool {
	base, _, _ := strings.Cut(s, ".")
	base = strings.TrimRight(base, " ")
	return windowsReserved[strings.ToUpper(base)]
}

// sanitizeName sanitizes the torrent's name, which is the first component of
// every path; it must not be empty.
func sanitizeName(name string, r pathRules) (string, error) {
	if name == "" {
		return "", invalidf("metainfo: info: name is empty")
	}
	s, ok := sanitizeComponent(name, r)
	if !ok {
		return "", errorf(ErrUnsafePath, "metainfo: info: name %q: not allowed", name)
	}
	return s, nil
}

// collisionSet finds two files that would share a path, or a file whose
// path is a directory of another file, after sanitizing.
type collisionSet struct {
	fold  bool
	files map[string]int // key -> index of the file
	dirs  map[string]int // key -> index of the first file inside it
}

func newCollisionSet(fold bool, n int) *collisionSet {
	return &collisionSet{fold: fold, files: make(map[string]int, n), dirs: make(map[string]int)}
}

// add records the file with index idx and separator-joined path p, and
// returns an ErrUnsafePath error if it collides with an earlier file.
func (s *collisionSet) add(idx int, p string) error {
	key := p
	if s.fold {
		key = strings.ToLower(p)
	}
	if j, ok := s.files[key]; ok {
		return errorf(ErrUnsafePath, "metainfo: info: files[%d] and files[%d]: both map to %q", j, idx, p)
	}
	if j, ok := s.dirs[key]; ok {
		return errorf(ErrUnsafePath, "metainfo: info: files[%d]: %q is also a directory of files[%d]", idx, p, j)
	}
	s.files[key] = idx
	for i := 0; i < len(key); i++ {
		if key[i] != filepath.Separator {
			continue
		}
		dir := key[:i]
		if j, ok := s.files[dir]; ok {
			return errorf(ErrUnsafePath, "metainfo: info: files[%d]: directory %q is also the file files[%d]", idx, dir, j)
		}
		if _, ok := s.dirs[dir]; !ok {
			s.dirs[dir] = idx
		}
	}
	return nil
}
