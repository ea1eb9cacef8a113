package metainfo

import (
	"path/filepath"
	"runtime"
	"strconv"
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
	// foldCase compares paths case-insensitively in all of Unicode, not
	// only in ASCII, when making them unique (case-insensitive file
	// systems: Windows, macOS).
	foldCase bool
}

// hostRules are the rules for the operating system gobit runs on.
var hostRules = pathRules{
	windows:  runtime.GOOS == "windows",
	foldCase: runtime.GOOS == "windows" || runtime.GOOS == "darwin",
}

// sanitizeComponent returns the on-disk form of one path component from a
// torrent (a file name or directory name, or the torrent's name): '/' and
// '\\' and control characters become '_', invalid UTF-8 becomes U+FFFD and,
// under Windows rules, the characters <>:"|?*, a trailing dot or space and
// reserved device names are repaired. The result may be "", "." or "..",
// which the caller must drop or replace: it is never used as is.
func sanitizeComponent(c string, r pathRules) string {
	if c == "" || c == "." || c == ".." {
		return c
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
	return s
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

// uniquePaths renames, in place, the paths that collide with an earlier
// path or with a directory of any path, the way libtorrent does: paths are
// compared case-insensitively (ASCII letters everywhere, all of Unicode
// when unicodeFold is set, for case-insensitive file systems) and a
// colliding "<base><ext>" becomes "<base>.<n><ext>" with the smallest
// n >= 1 not taken, where <ext> is the last component's extension
// including its dot. The work is linear in the number of paths: the last n
// tried for a given path is remembered, since every smaller n stays taken.
func uniquePaths(paths []string, unicodeFold bool) {
	key := asciiLower
	if unicodeFold {
		key = strings.ToLower
	}
	taken := make(map[string]bool, 2*len(paths))
	for _, p := range paths {
		for i := len(p) - 1; i > 0; i-- {
			if p[i] != filepath.Separator {
				continue
			}
			k := key(p[:i])
			if taken[k] {
				break // and so are its parents
			}
			taken[k] = true
		}
	}
	var tried map[string]int
	for i, p := range paths {
		k := key(p)
		if !taken[k] {
			taken[k] = true
			continue
		}
		if tried == nil {
			tried = make(map[string]int)
		}
		base, ext := splitExt(p)
		n := tried[k]
		for {
			n++
			cand := base + "." + strconv.Itoa(n) + ext
			if ck := key(cand); !taken[ck] {
				taken[ck] = true
				paths[i] = cand
				break
			}
		}
		tried[k] = n
	}
}

// splitExt splits p before the last dot of its last component: "d/a.tar.gz"
// is "d/a.tar" and ".gz", "d/a" is "d/a" and "", "d/.h" is "d/" and ".h".
func splitExt(p string) (base, ext string) {
	for i := len(p) - 1; i >= 0 && p[i] != filepath.Separator; i-- {
		if p[i] == '.' {
			return p[:i], p[i:]
		}
	}
	return p, ""
}

// asciiLower maps ASCII upper-case letters to lower case and leaves every
// other byte alone, as libtorrent compares file names.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// SanitizePath checks and converts a relative path a user gives for one of
// a torrent's files (a new name for it, or a folder of them), with '/'
// between components, into the form FileEntries uses: components joined
// with filepath.Separator, each repaired as the components of a torrent's
// paths are (control characters and '\\' become '_', and the platform's
// rules for reserved names and characters apply). Unlike a torrent's paths,
// which are repaired whatever they hold, a user's path that cannot be meant
// as a path inside the save directory is refused with an error matching
// ErrUnsafePath: an empty path, an absolute one, an empty component ("a//b",
// a trailing '/'), a "." or ".." component, or one longer than
// MaxPathLength after repair.
func SanitizePath(p string) (string, error) {
	return sanitizePath(p, hostRules)
}

func sanitizePath(p string, r pathRules) (string, error) {
	if p == "" {
		return "", errorf(ErrUnsafePath, "metainfo: path is empty")
	}
	if len(p) > MaxPathLength {
		return "", errorf(ErrUnsafePath, "metainfo: path is %d bytes long: at most %d allowed", len(p), MaxPathLength)
	}
	if p[0] == '/' || filepath.IsAbs(p) || filepath.VolumeName(p) != "" {
		return "", errorf(ErrUnsafePath, "metainfo: path %q is absolute: give it relative to the save directory", p)
	}
	var b strings.Builder
	b.Grow(len(p))
	for i, c := range strings.Split(p, "/") {
		switch c {
		case "":
			return "", errorf(ErrUnsafePath, "metainfo: path %q has an empty component", p)
		case ".", "..":
			return "", errorf(ErrUnsafePath, "metainfo: path %q has a %q component", p, c)
		}
		if i > 0 {
			b.WriteByte(filepath.Separator)
		}
		b.WriteString(sanitizeComponent(c, r))
	}
	out := b.String()
	if len(out) > MaxPathLength {
		return "", errorf(ErrUnsafePath, "metainfo: path is %d bytes long once repaired: at most %d allowed", len(out), MaxPathLength)
	}
	if !filepath.IsLocal(out) {
		return "", errorf(ErrUnsafePath, "metainfo: path %q is not a local path", p)
	}
	return out, nil
}
