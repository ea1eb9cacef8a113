package picker

// level holds the untouched pieces of one priority, grouped into buckets by
// availability: bucket k is pieces[start[k]:start[k+1]] and holds the pieces
// whose avail (not counting seeds) is k. start has one entry per bucket plus
// a sentinel equal to len(pieces); there is always at least one bucket.
// Within a bucket the order is arbitrary; picks start at a random offset.
type level struct {
	prio   int
	pieces []int32
	start  []int32
}

// buckets returns the number of buckets.
func (l *level) buckets() int32 { return int32(len(l.start)) - 1 }

// grow makes sure bucket k exists; new buckets are empty and at the end.
func (l *level) grow(k int32) {
	for l.buckets() <= k {
		l.start = append(l.start, int32(len(l.pieces)))
	}
}

// trim drops empty buckets at the top, keeping at least one.
func (l *level) trim() {
	for n := len(l.start); n > 2 && l.start[n-2] == l.start[n-1]; n = len(l.start) {
		l.start = l.start[:n-1]
	}
}

// levelIndex returns the index of the level of priority prio in p.levels,
// creating it if create is set; -1 if it does not exist.
func (p *Picker) levelIndex(prio int, create bool) int {
	for i, l := range p.levels {
		if l.prio == prio {
			return i
		}
		if l.prio < prio {
			if !create {
				return -1
			}
			p.levels = append(p.levels, nil)
			copy(p.levels[i+1:], p.levels[i:])
			p.levels[i] = &level{prio: prio, start: []int32{0, 0}}
			return i
		}
	}
	if !create {
		return -1
	}
	p.levels = append(p.levels, &level{prio: prio, start: []int32{0, 0}})
	return len(p.levels) - 1
}

// levelOf returns the level holding the untouched piece.
func (p *Picker) levelOf(piece int) *level {
	i := p.levelIndex(int(p.prio[piece]), false)
	if i < 0 {
		return nil
	}
	return p.levels[i]
}

// swap exchanges the pieces at indexes i and j of l.
func (p *Picker) swap(l *level, i, j int32) {
	a, b := l.pieces[i], l.pieces[j]
	l.pieces[i], l.pieces[j] = b, a
	p.pos[a], p.pos[b] = j, i
}

// bucketUp moves an untouched piece from bucket k to bucket k+1.
func (p *Picker) bucketUp(l *level, piece int, k int32) {
	l.grow(k + 1)
	last := l.start[k+1] - 1
	p.swap(l, p.pos[piece], last)
	l.start[k+1]--
}

// bucketDown moves an untouched piece from bucket k (k >= 1) to bucket k-1.
func (p *Picker) bucketDown(l *level, piece int, k int32) {
	first := l.start[k]
	p.swap(l, p.pos[piece], first)
	l.start[k]++
	l.trim()
}

// insertUntouched adds a piece with priority above 0 to its level, in the
// bucket of its availability, at a random place within the bucket.
func (p *Picker) insertUntouched(piece int) {
	l := p.levels[p.levelIndex(int(p.prio[piece]), true)]
	a := p.avail[piece]
	l.grow(a)
	l.pieces = append(l.pieces, int32(piece))
	i := int32(len(l.pieces) - 1)
	p.pos[piece] = i
	l.start[len(l.start)-1]++
	for k := l.buckets() - 1; k > a; k-- {
		first := l.start[k]
		p.swap(l, i, first)
		i = first
		l.start[k]++
	}
	if n := l.start[a+1] - l.start[a]; n > 1 {
		p.swap(l, i, l.start[a]+int32(p.rng.IntN(int(n))))
	}
	l.trim()
	p.untouched++
}

// removeUntouched takes a piece out of its level: it bubbles up through the
// higher buckets to the end of the slice, one swap per bucket.
func (p *Picker) removeUntouched(piece int) {
	idx := p.levelIndex(int(p.prio[piece]), false)
	if idx < 0 || p.pos[piece] < 0 {
		return
	}
	l := p.levels[idx]
	i := p.pos[piece]
	for k := p.avail[piece]; k < l.buckets(); k++ {
		last := l.start[k+1] - 1
		p.swap(l, i, last)
		i = last
		l.start[k+1]--
	}
	l.pieces = l.pieces[:len(l.pieces)-1]
	p.pos[piece] = -1
	l.trim()
	p.untouched--
	if len(l.pieces) == 0 && l.prio != 1 {
		p.levels = append(p.levels[:idx], p.levels[idx+1:]...)
	}
}
