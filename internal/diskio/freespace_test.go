package diskio

import (
	"runtime"
	"testing"
)

func TestFreeSpace(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("not supported here")
	}
	free, total, err := FreeSpace(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if total == 0 || free > total {
		t.Fatalf("free %d, total %d", free, total)
	}
	if _, _, err := FreeSpace("/nonexistent/path/for/gobit"); err == nil {
		t.Fatal("no error for a missing path")
	}
}
