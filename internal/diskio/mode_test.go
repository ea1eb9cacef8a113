package diskio

import "testing"

// TestChoose: the mode an IO starts in, for each platform and the
// storage's options.
func TestChoose(t *testing.T) {
	all := Direct | Async | Raw
	for _, tc := range []struct {
		name     string
		platform Mode
		opts     Options
		want     Mode
	}{
		{"Linux with AIO", all, Options{}, all},
		{"Linux without AIO in the build", Direct | Raw, Options{}, Direct | Raw},
		{"no O_DIRECT on the platform", 0, Options{}, 0},
		{"AIO built but no direct writes", Async | Raw, Options{}, 0},
		{"buffered writes asked for", all, Options{Buffered: true}, 0},
		{"buffered writes where there are none else", 0, Options{Buffered: true}, 0},
		{"AIO left off", all, Options{Off: Async}, Direct | Raw},
		{"raw calls left off", all, Options{Off: Raw}, Direct | Async},
		{"direct left off", all, Options{Off: Direct}, 0},
		{"all left off", all, Options{Off: all}, 0},
	} {
		if got := choose(tc.platform, tc.opts); got != tc.want {
			t.Errorf("%s: choose(%v, %+v) = %v, want %v", tc.name, tc.platform, tc.opts, got, tc.want)
		}
	}
	if m := Open(Options{Buffered: true}, nil).Stats().Mode; m != 0 {
		t.Errorf("Open with Buffered writes in mode %v", m)
	}
	if m := Open(Options{}, nil).Stats().Mode; m != choose(platform, Options{}) {
		t.Errorf("Open writes in mode %v, want the platform's %v", m, choose(platform, Options{}))
	}
}

// TestFallback: every fallback rule, from every mode it can meet.
func TestFallback(t *testing.T) {
	all := Direct | Async | Raw
	for _, tc := range []struct {
		from Mode
		ev   event
		want Mode
	}{
		// The file system refuses O_DIRECT: buffered for good.
		{all, directRefused, 0},
		{Direct | Raw, directRefused, 0},
		{Direct, directRefused, 0},
		{0, directRefused, 0},
		// AIO cannot be set up: synchronous direct writes, raw if they were.
		{all, asyncUnavailable, Direct | Raw},
		{Direct | Async, asyncUnavailable, Direct},
		{Direct | Raw, asyncUnavailable, Direct | Raw},
		// A raw write was slow: synchronous writes through os.File; AIO,
		// which never holds a processor, stays.
		{all, slowRawWrite, Direct | Async},
		{Direct | Raw, slowRawWrite, Direct},
		{Direct, slowRawWrite, Direct},
		{0, slowRawWrite, 0},
	} {
		if got := fallback(tc.from, tc.ev); got != tc.want {
			t.Errorf("fallback(%v, %d) = %v, want %v", tc.from, tc.ev, got, tc.want)
		}
	}
}

func TestModeString(t *testing.T) {
	for m, want := range map[Mode]string{0: "buffered", Direct: "direct", Direct | Async | Raw: "direct+async+raw", Direct | Raw: "direct+raw"} {
		if got := m.String(); got != want {
			t.Errorf("Mode(%d).String() = %q, want %q", m, got, want)
		}
	}
}
