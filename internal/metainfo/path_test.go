package metainfo

import (
	"errors"
	"testing"
)

func TestSanitizeComponent(t *testing.T) {
	linux := pathRules{}
	win := pathRules{windows: true, foldCase: true}
	tests := []struct {
		in         string
		rules      pathRules
		want       string
		wantUnsafe bool
	}{
		{"plain.txt", linux, "plain.txt", false},
		{"", linux, "", false},
		{".", linux, "", true},
		{"..", linux, "", true},
		{"...", linux, "...", false},
		{"..a", linux, "..a", false},
		{"a/b", linux, "a_b", false},
		{`a\b`, linux, "a_b", false},
		{"/etc/passwd", linux, "_etc_passwd", false},
		{"nul\x00byte", linux, "nul_byte", false},
		{"tab\there\nnl", linux, "tab_here_nl", false},
		{"del\x7f", linux, "del_", false},
		{"bad\xff", linux, "bad\uFFFD", false},
		{"C:", linux, "C:", false},
		{"CON", linux, "CON", false},
		{"日本語 ok", linux, "日本語 ok", false},
		// Windows rules.
		{"C:", win, "C_", false},
		{"C:x", win, "C_x", false},
		{"file:stream", win, "file_stream", false},
		{`a<b>c"d|e?f*g`, win, "a_b_c_d_e_f_g", false},
		{"CON", win, "_CON", false},
		{"con.txt", win, "_con.txt", false},
		{"Com1.tar.gz", win, "_Com1.tar.gz", false},
		{"LPT9", win, "_LPT9", false},
		{"nul ", win, "nul_", false},
		{"nul .txt", win, "_nul .txt", false},
		{"CONSOLE", win, "CONSOLE", false},
		{"trailing.", win, "trailing_", false},
		{"trailing ", win, "trailing_", false},
		{"...", win, ".._", false},
		{"..", win, "", true},
	}
	for _, tc := range tests {
		got, ok := sanitizeComponent(tc.in, tc.rules)
		if ok == tc.wantUnsafe || got != tc.want {
			t.Errorf("sanitizeComponent(%q, windows=%v) = %q, %v; want %q, %v", tc.in, tc.rules.windows, got, ok, tc.want, !tc.wantUnsafe)
		}
	}
}

func TestWindowsRulesCollisions(t *testing.T) {
	win := pathRules{windows: true, foldCase: true}
	tests := []struct {
		name    string
		files   []File
		wantErr bool
	}{
		{"distinct", []File{{Length: 1, Path: []string{"a"}}, {Length: 1, Path: []string{"b"}}}, false},
		{"case-insensitive duplicate", []File{{Length: 1, Path: []string{"README"}}, {Length: 1, Path: []string{"readme"}}}, true},
		{"trailing dot duplicate", []File{{Length: 1, Path: []string{"a_"}}, {Length: 1, Path: []string{"a."}}}, true},
		{"case-insensitive dir", []File{{Length: 1, Path: []string{"Dir"}}, {Length: 1, Path: []string{"dir", "x"}}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info := &Info{Name: "t", PieceLength: 16384, Files: tc.files, Pieces: fakePieces(1)}
			err := info.validate(win)
			if tc.wantErr != (err != nil) {
				t.Fatalf("validate = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrUnsafePath) {
				t.Fatalf("error %v does not match ErrUnsafePath", err)
			}
			if err == nil {
				if err := info.validate(pathRules{}); err != nil {
					t.Fatalf("linux rules: %v", err)
				}
			}
		})
	}
	// Case-sensitive hosts keep both files.
	info := &Info{Name: "t", PieceLength: 16384, Pieces: fakePieces(1),
		Files: []File{{Length: 1, Path: []string{"README"}}, {Length: 1, Path: []string{"readme"}}}}
	if err := info.validate(pathRules{}); err != nil {
		t.Fatalf("case-sensitive rules rejected README/readme: %v", err)
	}
}

func TestFileEntriesInvalidInfo(t *testing.T) {
	info := &Info{Name: "..", PieceLength: 16384, Length: 10, Pieces: fakePieces(1)}
	if es := info.FileEntries(); es != nil {
		t.Fatalf("FileEntries of an unsafe info = %v, want nil", es)
	}
}
