package main

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// defaultCols is the width assumed for a terminal whose size is unknown.
const defaultCols = 80

// termCols returns the width in columns of the terminal w writes to:
// from the terminal itself, else from $COLUMNS, else defaultCols.
func termCols(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if n := fdCols(f.Fd()); n > 0 {
			return n
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return defaultCols
}

// liveLine is one status line redrawn in place at the bottom of a terminal,
// shared with other output (logs) written to the same terminal: that goes
// through Writer, which clears the line, writes the output and draws the
// line again below it, so the two never mix on one line. Safe for
// concurrent use.
type liveLine struct {
	mu      sync.Mutex
	w       io.Writer // the terminal the line is drawn on
	line    string    // the line on screen; "" when none
	pending []byte    // other output up to its next newline
}

// maxPending bounds a partial line of other output held back until its
// newline arrives; longer ones are written at once.
const maxPending = 16 << 10

// draw replaces the line on screen with s (which must fit the terminal's
// width and hold no newline).
func (l *liveLine) draw(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(l.w, "\r\x1b[K"+s)
	l.line = s
}

// end leaves the line on screen and moves below it, so that later output
// starts on a line of its own.
func (l *liveLine) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.line != "" {
		io.WriteString(l.w, "\n")
		l.line = ""
	}
}

// Writer returns a writer for other output to dst, a stream that shows on
// the same terminal (stderr beside stdout). Whole lines are written between
// a clear and a redraw of the status line; a partial line waits for its
// newline (up to maxPending bytes).
func (l *liveLine) Writer(dst io.Writer) io.Writer { return &liveWriter{l: l, dst: dst} }

type liveWriter struct {
	l   *liveLine
	dst io.Writer
}

func (lw *liveWriter) Write(p []byte) (int, error) {
	l := lw.l
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, p...)
	cut := bytes.LastIndexByte(l.pending, '\n') + 1
	forced := cut == 0 // a partial line too long to hold back
	if forced {
		if len(l.pending) < maxPending {
			return len(p), nil
		}
		cut = len(l.pending)
	}
	if l.line != "" {
		io.WriteString(l.w, "\r\x1b[K")
	}
	_, err := lw.dst.Write(l.pending[:cut])
	l.pending = append(l.pending[:0], l.pending[cut:]...)
	if l.line != "" {
		if forced {
			io.WriteString(lw.dst, "\n") // or the redraw would clear it
		}
		io.WriteString(l.w, l.line)
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// runeCols is the number of terminal columns r takes: 0 for combining
// marks and zero-width characters, 2 for East Asian wide characters and
// most emoji, 1 otherwise.
func runeCols(r rune) int {
	switch {
	case r == 0x200b || r == 0x200c || r == 0x200d || r == 0xfeff,
		unicode.Is(unicode.Mn, r), unicode.Is(unicode.Me, r):
		return 0
	case r >= 0x1100 && r <= 0x115f, r >= 0x2e80 && r <= 0x303e, r >= 0x3041 && r <= 0x33ff,
		r >= 0x3400 && r <= 0x4dbf, r >= 0x4e00 && r <= 0x9fff, r >= 0xa000 && r <= 0xa4cf,
		r >= 0xac00 && r <= 0xd7a3, r >= 0xf900 && r <= 0xfaff, r >= 0xfe30 && r <= 0xfe4f,
		r >= 0xff00 && r <= 0xff60, r >= 0xffe0 && r <= 0xffe6, r >= 0x1f300 && r <= 0x1f64f,
		r >= 0x1f900 && r <= 0x1f9ff, r >= 0x20000 && r <= 0x3fffd:
		return 2
	}
	return 1
}

// strCols is the number of terminal columns s takes.
func strCols(s string) int {
	n := 0
	for _, r := range s {
		n += runeCols(r)
	}
	return n
}

// fitCols cuts s to at most n columns, marking a cut with "…".
func fitCols(s string, n int) string {
	if strCols(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	var b strings.Builder
	used := 0
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		c := runeCols(r)
		if used+c > n-1 {
			break
		}
		b.WriteRune(r)
		used += c
		s = s[size:]
	}
	b.WriteString("…")
	return b.String()
}
