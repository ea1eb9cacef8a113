package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobit/gobit/internal/session"
)

// fakeTerm is a terminal screen of a fixed width: it interprets the bytes
// written to it (CR, LF, ESC[K) as a terminal does, wrapping a line that
// runs past the last column, and counts the wraps. Both "stdout" and
// "stderr" write to it, as both show on one terminal.
type fakeTerm struct {
	mu       sync.Mutex
	cols     int
	lines    [][]rune
	row, col int
	wraps    int
	wrapped  []int // rows continued on the next row
	esc      []byte
}

func newFakeTerm(cols int) *fakeTerm { return &fakeTerm{cols: cols, lines: [][]rune{nil}} }

func (ft *fakeTerm) Write(p []byte) (int, error) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	s := string(p)
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		if ft.esc != nil {
			ft.esc = append(ft.esc, byte(r))
			if r >= '@' && r <= '~' && len(ft.esc) > 1 {
				if string(ft.esc) == "[K" {
					ft.lines[ft.row] = ft.lines[ft.row][:min(ft.col, len(ft.lines[ft.row]))]
				} else {
					panic(fmt.Sprintf("fakeTerm: unexpected escape %q", ft.esc))
				}
				ft.esc = nil
			}
			continue
		}
		switch r {
		case 0x1b:
			ft.esc = []byte{}
		case '\r':
			ft.col = 0
		case '\n':
			ft.newline()
		default:
			w := runeCols(r)
			if ft.col+w > ft.cols {
				ft.wraps++
				ft.wrapped = append(ft.wrapped, ft.row)
				ft.newline()
			}
			line := ft.lines[ft.row]
			for len(line) < ft.col {
				line = append(line, ' ')
			}
			if ft.col < len(line) {
				line = append(line[:ft.col], r)
			} else {
				line = append(line, r)
			}
			ft.lines[ft.row] = line
			ft.col += w
		}
	}
	return len(p), nil
}

func (ft *fakeTerm) newline() {
	ft.row++
	ft.col = 0
	if ft.row == len(ft.lines) {
		ft.lines = append(ft.lines, nil)
	}
}

// screen returns the lines on screen, the last one without its newline.
func (ft *fakeTerm) screen() []string {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	out := make([]string, len(ft.lines))
	for i, l := range ft.lines {
		out[i] = string(l)
	}
	return out
}

func longStatus(name string) session.Status {
	s := st(session.StateDownloading, 0.37)
	s.Name = name
	s.Peers, s.Seeds = 123, 45
	return s
}

func TestBarLineFitsWidth(t *testing.T) {
	names := []string{
		"thing.iso",
		"Some.Very.Long.Release.Name.With.Many.Words.2026.1080p.WEB-DL.x264-GROUP.mkv",
		"日本語のとても長いファイル名のテストです日本語のとても長いファイル名.zip",
		"evil\x1b]0;title\x07name\r\nnext",
		"",
	}
	states := []session.Status{st(session.StateMetadata, 0), st(session.StateChecking, 0.5), st(session.StateSeeding, 1)}
	for _, name := range names {
		s := longStatus(name)
		prevParts := -1
		for cols := 10; cols <= 220; cols++ {
			all := append([]session.Status{s}, states...)
			for _, x := range all {
				x.Name = name
				line := barLine(x, cols)
				if strCols(line) > cols-1 {
					t.Fatalf("cols %d: line takes %d columns: %q", cols, strCols(line), line)
				}
				if strings.ContainsFunc(line, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
					t.Fatalf("cols %d: control character in %q", cols, line)
				}
			}
			// A wider terminal never shows less.
			parts := len(strings.Split(barLine(s, cols), "  "))
			if parts < prevParts {
				t.Errorf("name %q: %d parts at %d columns, %d at one less", name, parts, cols, prevParts)
			}
			prevParts = parts
		}
		// The essentials survive on a narrow terminal; on a wide one the
		// whole line is there, with the name up to its bound.
		mustContain(t, "40 columns", barLine(s, 40), "37.0%", "down 3.0 MiB/s", "ETA 42s")
		wide := barLine(s, 220)
		mustContain(t, "220 columns", wide, "37.0%", "37 MiB / 100 MiB", "down 3.0 MiB/s", "up 1.0 KiB/s", "peers 123 (45 seeds)", "ETA 42s", "[#######-------------]")
		if name != "" && strCols(name) > nameMax && !strings.Contains(wide, "…") {
			t.Errorf("long name not shortened with …: %q", wide)
		}
	}
	if got := barLine(longStatus("thing.iso"), 120); !strings.HasPrefix(got, "thing.iso  [") {
		t.Errorf("120 columns: %q, want the name first", got)
	}
}

// TestLiveLineInterleaving: log lines written while the progress line is on
// screen land on lines of their own, whole, and the progress line is drawn
// again below them.
func TestLiveLineInterleaving(t *testing.T) {
	ft := newFakeTerm(60)
	live := &liveLine{w: ft}
	logw := live.Writer(ft)
	bar1 := barLine(longStatus("first.iso"), 60)
	bar2 := barLine(longStatus("second.iso"), 60)

	live.draw(bar1)
	fmt.Fprint(logw, "level=WARN msg=\"tracker announce failed\"\n")
	live.draw(bar2)
	fmt.Fprint(logw, "level=INFO msg=part")       // a line in two writes
	fmt.Fprint(logw, "ial\nlevel=INFO msg=two\n") // ... and a second line
	live.end()
	fmt.Fprint(ft, "complete\n")

	want := []string{
		"level=WARN msg=\"tracker announce failed\"",
		"level=INFO msg=partial",
		"level=INFO msg=two",
		bar2,
		"complete",
		"",
	}
	got := ft.screen()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("screen:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ft.wraps != 0 {
		t.Errorf("%d wrapped lines", ft.wraps)
	}

	// Without a line on screen the writer passes lines through unchanged.
	ft = newFakeTerm(60)
	live = &liveLine{w: ft}
	fmt.Fprint(live.Writer(ft), "a\nb\n")
	if got := strings.Join(ft.screen(), "|"); got != "a|b|" {
		t.Errorf("no live line: screen %q", got)
	}
}

// TestWatchOnNarrowTerminal runs watch on a 50-column fake terminal while
// a logger writes to the same terminal: no line wraps, and every line on
// screen is either a whole log line or a progress line.
func TestWatchOnNarrowTerminal(t *testing.T) {
	const cols = 50
	ft := newFakeTerm(cols)
	live := &liveLine{w: ft}
	log := slog.New(slog.NewTextHandler(live.Writer(ft), &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	name := "A.Rather.Long.Torrent.Name.That.Would.Not.Fit.On.One.Line.iso"
	var script []session.Status
	for i := range 20 {
		s := longStatus(name)
		s.Progress = float64(i) / 20
		script = append(script, s)
	}
	done := st(session.StateSeeding, 1)
	done.Name = name
	script = append(script, done)
	src := &scriptedSource{script: script}

	stop := make(chan struct{})
	logged := make(chan int)
	go func() {
		n := 0
		defer func() { logged <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			log.Warn("tracker announce failed", "n", n)
			n++
			time.Sleep(100 * time.Microsecond) // pacing: a steady stream of log lines, not a wait
		}
	}()
	err := watch(context.Background(), src, strings.Repeat("a", 40), watchOptions{
		out: ft, tty: true, interval: time.Millisecond, live: live, cols: func() int { return cols },
	})
	close(stop)
	n := <-logged
	if err != nil {
		t.Fatal(err)
	}
	screen := ft.screen()
	skip := map[int]bool{}
	for _, row := range ft.wrapped {
		// The final message is an ordinary line; only the progress
		// line must fit.
		if !strings.HasPrefix(screen[row], "complete: ") {
			t.Errorf("line %q wrapped on a %d-column terminal:\n%s", screen[row], cols, strings.Join(screen, "\n"))
		}
		skip[row+1] = true
	}
	logs, bars := 0, 0
	for i, line := range screen {
		switch {
		case line == "", skip[i]:
		case strings.HasPrefix(line, "level=WARN msg=\"tracker announce failed\" n="):
			if strings.Contains(line, "[") || strings.Contains(line, "%") {
				t.Errorf("progress inside a log line: %q", line)
			}
			logs++
		case strings.HasPrefix(line, "complete: "):
		default:
			if !strings.Contains(line, "%") || strings.Contains(line, "level=") {
				t.Errorf("line neither a log line nor a progress line: %q", line)
			}
			bars++
		}
	}
	if logs != n || bars != 1 {
		t.Errorf("%d whole log lines on screen of %d logged, %d progress lines (want 1)", logs, n, bars)
	}
}
