package torrent

import "testing"

func TestRequestRoom(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name              string
		pieceLen          int64
		buffers, requests int
		want              int
	}{
		{"idle, 1 MiB pieces", mib, 0, 0, 768},
		{"requests use room", mib, 0, 100, 668},
		{"buffers use room", mib, 3, 0, 768 - 3*64},
		{"both", mib, 4, 200, 768 - 4*64 - 200},
		{"full", mib, 12, 0, 0},
		{"over budget", mib, 10, 300, 768 - 10*64 - 300},
		{"16 KiB pieces", 16 << 10, 10, 10, 768 - 20},
		// Huge pieces: room for three at once, so a download can progress.
		{"16 MiB pieces, idle", 16 * mib, 0, 0, 3 * 1024},
		{"16 MiB pieces, two held", 16 * mib, 2, 0, 1024},
	}
	for _, tt := range tests {
		if got := requestRoom(tt.pieceLen, tt.buffers, tt.requests); got != tt.want {
			t.Errorf("%s: requestRoom = %d, want %d", tt.name, got, tt.want)
		}
	}
}
