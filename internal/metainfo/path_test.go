package metainfo

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestSanitizeComponent(t *testing.T) {
	linux := pathRules{}
	win := pathRules{windows: true, foldCase: true}
	tests := []struct {
		in    string
		rules pathRules
		want  string
	}{
		{"plain.txt", linux, "plain.txt"},
		{"", linux, ""},
		{".", linux, "."},
		{"..", linux, ".."},
		{"...", linux, "..."},
		{"..a", linux, "..a"},
		{"a/b", linux, "a_b"},
		{`a\b`, linux, "a_b"},
		{"/etc/passwd", linux, "_etc_passwd"},
		{"nul\x00byte", linux, "nul_byte"},
		{"tab\there\nnl", linux, "tab_here_nl"},
		{"del\x7f", linux, "del_"},
		{"bad\xff", linux, "bad\uFFFD"},
		{"C:", linux, "C:"},
		{"CON", linux, "CON"},
		{"日本語 ok", linux, "日本語 ok"},
		// Windows rules.
		{"C:", win, "C_"},
		{"C:x", win, "C_x"},
		{"file:stream", win, "file_stream"},
		{`a<b>c"d|e?f*g`, win, "a_b_c_d_e_f_g"},
		{"CON", win, "_CON"},
		{"con.txt", win, "_con.txt"},
		{"Com1.tar.gz", win, "_Com1.tar.gz"},
		{"LPT9", win, "_LPT9"},
		{"nul ", win, "nul_"},
		{"nul .txt", win, "_nul .txt"},
		{"CONSOLE", win, "CONSOLE"},
		{"trailing.", win, "trailing_"},
		{"trailing ", win, "trailing_"},
		{"...", win, ".._"},
		{"..", win, ".."},
	}
	for _, tc := range tests {
		if got := sanitizeComponent(tc.in, tc.rules); got != tc.want {
			t.Errorf("sanitizeComponent(%q, windows=%v) = %q, want %q", tc.in, tc.rules.windows, got, tc.want)
		}
	}
}

func TestWindowsRulesUnique(t *testing.T) {
	win := pathRules{windows: true, foldCase: true}
	sep := string(filepath.Separator)
	tests := []struct {
		name      string
		files     []File
		win, unix []string // the last component of each file's path
	}{
		{"distinct", []File{{Length: 1, Path: []string{"a"}}, {Length: 1, Path: []string{"b"}}}, []string{"a", "b"}, []string{"a", "b"}},
		{"ascii case", []File{{Length: 1, Path: []string{"README"}}, {Length: 1, Path: []string{"readme"}}},
			[]string{"README", "readme.1"}, []string{"README", "readme.1"}},
		{"unicode case", []File{{Length: 1, Path: []string{"Ä"}}, {Length: 1, Path: []string{"ä"}}},
			[]string{"Ä", "ä.1"}, []string{"Ä", "ä"}},
		{"trailing dot", []File{{Length: 1, Path: []string{"a_"}}, {Length: 1, Path: []string{"a."}}},
			[]string{"a_", "a_.1"}, []string{"a_", "a."}},
		{"case-insensitive dir", []File{{Length: 1, Path: []string{"Dir"}}, {Length: 1, Path: []string{"dir", "x"}}},
			[]string{"Dir.1", "x"}, []string{"Dir.1", "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info := &Info{Name: "t", PieceLength: 16384, Files: tc.files, Pieces: fakePieces(1)}
			for _, rc := range []struct {
				r    pathRules
				want []string
			}{{win, tc.win}, {pathRules{}, tc.unix}} {
				es, err := info.fileEntries(rc.r)
				if err != nil {
					t.Fatalf("fileEntries(windows=%v): %v", rc.r.windows, err)
				}
				for k, e := range es {
					if base := e.Path[strings.LastIndex(e.Path, sep)+1:]; base != rc.want[k] {
						t.Errorf("windows=%v: file %d is %q, want last component %q", rc.r.windows, k, e.Path, rc.want[k])
					}
				}
			}
		})
	}
}

func TestFileEntriesInvalidInfo(t *testing.T) {
	info := &Info{Name: "..", PieceLength: 16384, Length: 10, Pieces: fakePieces(1)}
	if es := info.FileEntries(); es != nil {
		t.Fatalf("FileEntries of an unsafe info = %v, want nil", es)
	}
}
