package main

import "testing"

func TestProcsIsHalfTheCPUsAtLeastOne(t *testing.T) {
	for _, tt := range []struct{ n, want int }{{1, 1}, {2, 1}, {3, 2}, {4, 2}, {8, 4}, {64, 32}} {
		if got := procs(tt.n); got != tt.want {
			t.Errorf("procs(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}
