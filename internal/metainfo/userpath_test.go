package metainfo

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestSanitizePath(t *testing.T) {
	sep := string(filepath.Separator)
	good := []struct{ in, want string }{
		{"a", "a"},
		{"dir/a.mkv", "dir" + sep + "a.mkv"},
		{"d/e/f", "d" + sep + "e" + sep + "f"},
		{"x\x00y/z", "x_y" + sep + "z"},
		{`back\slash`, "back_slash"},
		{"..a/b..", "..a" + sep + "b.."},
		{"ünï/código", "ünï" + sep + "código"},
	}
	for _, c := range good {
		got, err := SanitizePath(c.in)
		if err != nil || got != c.want {
			t.Errorf("SanitizePath(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	bad := []string{
		"", "/", "/etc/passwd", "a//b", "a/", "/a", ".", "..", "../x", "a/../../x", "a/./b", "a/..",
		strings.Repeat("a", MaxPathLength+1),
	}
	for _, in := range bad {
		got, err := SanitizePath(in)
		if err == nil {
			t.Errorf("SanitizePath(%q) = %q, want an error", in, got)
			continue
		}
		if !errors.Is(err, ErrUnsafePath) {
			t.Errorf("SanitizePath(%q): %v does not match ErrUnsafePath", in, err)
		}
	}
	win := pathRules{windows: true, foldCase: true}
	if got, err := sanitizePath("con/a:b?", win); err != nil || got != "_con"+sep+"a_b_" {
		t.Errorf("windows rules: got %q, %v", got, err)
	}
}

// FuzzSanitizePath checks that whatever a user sends, an accepted path is a
// local path of non-empty components none of which is "." or "..", no longer
// than MaxPathLength, that stays the same when sanitized again.
func FuzzSanitizePath(f *testing.F) {
	for _, s := range []string{"a", "a/b", "../x", "/abs", "a//b", "a/./b", "x\x00y", `a\..\b`, "C:/x", "a/..", "\xff/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		for _, r := range []pathRules{hostRules, {windows: true, foldCase: true}} {
			out, err := sanitizePath(p, r)
			if err != nil {
				if !errors.Is(err, ErrUnsafePath) {
					t.Fatalf("%q: error %v does not match ErrUnsafePath", p, err)
				}
				continue
			}
			if out == "" || len(out) > MaxPathLength || !filepath.IsLocal(out) || filepath.IsAbs(out) {
				t.Fatalf("%q: accepted as %q", p, out)
			}
			for _, c := range strings.Split(out, string(filepath.Separator)) {
				if c == "" || c == "." || c == ".." {
					t.Fatalf("%q: accepted as %q with component %q", p, out, c)
				}
			}
			if filepath.Clean(out) != out {
				t.Fatalf("%q: accepted as %q, which is not clean", p, out)
			}
			again, err := sanitizePath(filepath.ToSlash(out), r)
			if err != nil || again != out {
				t.Fatalf("%q: %q sanitized again is %q, %v", p, out, again, err)
			}
		}
	})
}
