package torrent

import (
	"maps"
	"slices"
	"testing"

	"github.com/gobit/gobit/internal/bitfield"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/picker"
)

// TestPiecePriorities: a piece takes the highest priority of the files it
// overlaps (padding files count for nothing), skip-only pieces get 0, the
// first and last piece of each wanted file are raised when asked, and a
// stream window outranks everything, nearest first.
func TestPiecePriorities(t *testing.T) {
	// Piece length 100: a [0,250) b [250,260) pad [260,300) c [300,700) d [700,750).
	info := &metainfo.Info{Name: "t", PieceLength: 100, Files: []metainfo.File{
		{Length: 250, Path: []string{"a"}},
		{Length: 10, Path: []string{"b"}},
		{Length: 40, Path: []string{".pad", "40"}, Attr: "p"},
		{Length: 400, Path: []string{"c"}},
		{Length: 50, Path: []string{"d"}},
	}}
	info.Pieces = make([]byte, 20*8)
	tests := []struct {
		name      string
		prio      map[int]Priority // by file index: a 0, b 1, c 2, d 3
		only      []int
		firstLast bool
		stream    *streamWindow
		want      []int // per piece
		wanted    int64
	}{
		{"all normal", nil, nil, false, nil, []int{2, 2, 2, 2, 2, 2, 2, 2}, 750},
		{"skip c: shared piece 2 stays wanted", map[int]Priority{2: PrioritySkip}, nil, false, nil,
			[]int{2, 2, 2, 0, 0, 0, 0, 2}, 350},
		{"high b wins its shared piece", map[int]Priority{1: PriorityHigh, 0: PriorityLow}, nil, false, nil,
			[]int{1, 1, 3, 2, 2, 2, 2, 2}, 750},
		{"only d", nil, []int{3}, false, nil, []int{0, 0, 0, 0, 0, 0, 0, 2}, 50},
		{"only a and d, but c high", map[int]Priority{2: PriorityHigh}, []int{0, 3}, false, nil,
			[]int{2, 2, 2, 3, 3, 3, 3, 2}, 750},
		{"first and last of wanted files", map[int]Priority{1: PrioritySkip}, nil, true, nil,
			[]int{4, 2, 4, 4, 2, 2, 4, 4}, 750},
		{"stream window over skipped pieces", map[int]Priority{2: PrioritySkip}, nil, false, &streamWindow{first: 4, n: 3},
			[]int{2, 2, 2, 0, 103, 102, 101, 2}, 350},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tor := &Torrent{info: info, have: bitfield.New(8)}
			tor.sel.prio = maps.Clone(tc.prio)
			tor.sel.only = tc.only
			tor.sel.firstLast = tc.firstLast
			if tc.stream != nil {
				tor.sel.streams.win = map[int]streamWindow{1: *tc.stream}
			}
			tor.pk = picker.New(8, 100, 750, nil)
			tor.applySelection()
			var got []int
			for i := range 8 {
				got = append(got, tor.pk.Priority(i))
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("piece priorities %v, want %v", got, tc.want)
			}
			if tor.sel.wantedSize != tc.wanted {
				t.Fatalf("wanted size %d, want %d", tor.sel.wantedSize, tc.wanted)
			}
		})
	}
}
