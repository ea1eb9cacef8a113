package choker

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// newRNG returns a fixed-seed source so tests are reproducible.
func newRNG() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// ids returns the sorted keys of a result set.
func ids(set map[int]bool) []int {
	return slices.Sorted(maps.Keys(set))
}

// regularOf returns the result without the optimistic peer.
func regularOf(c *Choker, set map[int]bool) []int {
	out := []int{}
	for _, id := range ids(set) {
		if id != c.Optimistic() {
			out = append(out, id)
		}
	}
	return out
}

// apply updates peers as the torrent loop would after a round: unchoked
// peers get Choked=false (LastUnchoked=now when newly unchoked), the others
// Choked=true.
func apply(peers []Peer, set map[int]bool, now time.Time) {
	for i := range peers {
		p := &peers[i]
		if set[p.ID] {
			if p.Choked {
				p.LastUnchoked = now
			}
			p.Choked = false
		} else {
			p.Choked = true
		}
	}
}

// checkInvariants asserts what must hold after every Review.
func checkInvariants(t *testing.T, c *Choker, peers []Peer, set map[int]bool) {
	t.Helper()
	byID := map[int]Peer{}
	for _, p := range peers {
		if _, ok := byID[p.ID]; !ok {
			byID[p.ID] = p
		}
	}
	for id := range set {
		p, ok := byID[id]
		if !ok {
			t.Fatalf("unchoked unknown peer %d", id)
		}
		if !p.Interested || p.Seed {
			t.Fatalf("unchoked peer %d: interested=%v seed=%v", id, p.Interested, p.Seed)
		}
	}
	if opt := c.Optimistic(); opt != -1 && !set[opt] {
		t.Fatalf("optimistic peer %d not in the unchoke set %v", opt, ids(set))
	}
	if c.Slots() >= 0 && len(set) > c.Slots()+1 {
		t.Fatalf("%d peers unchoked with %d slots", len(set), c.Slots())
	}
}

func TestLeechingRegularSlots(t *testing.T) {
	interested := func(id int, down, up int64) Peer {
		return Peer{ID: id, Interested: true, Choked: true, DownloadRate: down, UploadRate: up, ConnectedAt: t0.Add(-time.Hour)}
	}
	tests := []struct {
		name     string
		slots    int
		peers    []Peer
		regular  []int
		optFrom  []int // allowed optimistic peers; empty means none
		modifier func([]Peer)
	}{
		{
			name:    "best download rates win",
			peers:   []Peer{interested(1, 100, 0), interested(2, 600, 0), interested(3, 300, 0), interested(4, 500, 0), interested(5, 200, 0), interested(6, 400, 0)},
			regular: []int{2, 3, 4, 6},
			optFrom: []int{1, 5},
		},
		{
			name:    "upload rate breaks download ties",
			peers:   []Peer{interested(1, 100, 10), interested(2, 100, 50), interested(3, 100, 30), interested(4, 100, 40), interested(5, 100, 20)},
			regular: []int{2, 3, 4, 5},
			optFrom: []int{1},
		},
		{
			name: "uninterested peers never take a slot",
			peers: []Peer{
				{ID: 1, Interested: false, Choked: true, DownloadRate: 1 << 20},
				{ID: 2, Interested: false, Choked: false, DownloadRate: 1 << 19},
				interested(3, 10, 0), interested(4, 20, 0),
			},
			regular: []int{3, 4},
		},
		{
			name: "snubbed peers lose their slot but may be optimistic",
			peers: []Peer{
				{ID: 1, Interested: true, Snubbed: true, DownloadRate: 1 << 20},
				interested(2, 10, 0), interested(3, 20, 0), interested(4, 30, 0), interested(5, 40, 0),
			},
			regular: []int{2, 3, 4, 5},
			optFrom: []int{1},
		},
		{
			name: "seeds are never unchoked",
			peers: []Peer{
				{ID: 1, Interested: true, Seed: true, DownloadRate: 1 << 20},
				{ID: 2, Seed: true, DownloadRate: 1 << 20},
				interested(3, 10, 0),
			},
			regular: []int{3},
		},
		{
			name:    "one slot",
			slots:   1,
			peers:   []Peer{interested(1, 5, 0), interested(2, 7, 0), interested(3, 6, 0)},
			regular: []int{2},
			optFrom: []int{1, 3},
		},
		{
			name:    "unlimited slots",
			slots:   -1,
			peers:   []Peer{interested(1, 5, 0), interested(2, 7, 0), {ID: 3, Interested: false}, {ID: 4, Interested: true, Snubbed: true}},
			regular: []int{1, 2},
			optFrom: []int{4},
		},
		{name: "no peers", regular: []int{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Config{Slots: tc.slots}, newRNG())
			set := c.Review(tc.peers, false, t0)
			checkInvariants(t, c, tc.peers, set)
			if got := regularOf(c, set); !slices.Equal(got, tc.regular) {
				t.Errorf("regular = %v, want %v (optimistic %d)", got, tc.regular, c.Optimistic())
			}
			opt := c.Optimistic()
			switch {
			case len(tc.optFrom) == 0 && opt != -1:
				t.Errorf("optimistic = %d, want none", opt)
			case len(tc.optFrom) > 0 && !slices.Contains(tc.optFrom, opt):
				t.Errorf("optimistic = %d, want one of %v", opt, tc.optFrom)
			}
		})
	}
}

func TestSeedingRegularSlots(t *testing.T) {
	now := t0
	// unchoked: a peer we unchoked `ago` before now, uploading at rate.
	unchoked := func(id int, rate int64, ago time.Duration) Peer {
		return Peer{ID: id, Interested: true, UploadRate: rate, LastUnchoked: now.Add(-ago), ConnectedAt: now.Add(-time.Hour)}
	}
	// waiting: a choked peer last unchoked `ago` before now (0 = never).
	waiting := func(id int, ago time.Duration) Peer {
		p := Peer{ID: id, Interested: true, Choked: true, ConnectedAt: now.Add(-time.Hour)}
		if ago > 0 {
			p.LastUnchoked = now.Add(-ago)
		}
		return p
	}
	tests := []struct {
		name    string
		slots   int
		peers   []Peer
		regular []int
		optFrom []int
	}{
		{
			name: "slots held less than a minute are kept",
			peers: []Peer{
				unchoked(1, 100, 10*time.Second), unchoked(2, 200, 20*time.Second),
				unchoked(3, 300, 30*time.Second), unchoked(4, 400, 50*time.Second),
				waiting(5, 0), waiting(6, 0),
			},
			regular: []int{1, 2, 3, 4},
			optFrom: []int{5, 6},
		},
		{
			name: "slots held a minute rotate to the longest-waiting peers",
			peers: []Peer{
				unchoked(1, 900, 70*time.Second), unchoked(2, 800, 60*time.Second),
				unchoked(3, 100, 10*time.Second), unchoked(4, 100, 20*time.Second),
				waiting(5, 5*time.Minute), waiting(6, 0), waiting(7, time.Minute),
			},
			regular: []int{3, 4, 5, 6},
			optFrom: []int{1, 2, 7},
		},
		{
			name: "a peer whose minute is up keeps its slot when nobody waits",
			peers: []Peer{
				unchoked(1, 900, 10*time.Minute), unchoked(2, 100, 10*time.Second),
				waiting(3, 0),
			},
			regular: []int{1, 2, 3},
		},
		{
			name:  "fewer slots: the fastest recent peers keep theirs",
			slots: 2,
			peers: []Peer{
				unchoked(1, 100, 10*time.Second), unchoked(2, 300, 10*time.Second),
				unchoked(3, 200, 10*time.Second), unchoked(4, 50, 10*time.Second),
			},
			regular: []int{2, 3},
			optFrom: []int{1, 4},
		},
		{
			name: "choked peers' residual upload rate does not count",
			peers: []Peer{
				func() Peer { p := waiting(1, 15*time.Second); p.UploadRate = 1 << 20; return p }(),
				waiting(2, 20*time.Minute), waiting(3, 10*time.Minute), waiting(4, 5*time.Minute), waiting(5, time.Minute),
			},
			regular: []int{2, 3, 4, 5},
			optFrom: []int{1},
		},
		{
			name: "snubbed does not matter, download rate is ignored, uninterested and seeds never",
			peers: []Peer{
				{ID: 1, Interested: true, Choked: true, Snubbed: true},
				{ID: 2, Interested: false, Choked: true, DownloadRate: 1 << 20},
				{ID: 3, Interested: true, Seed: true, Choked: true},
				{ID: 4, Interested: true, Choked: true, DownloadRate: 5},
			},
			regular: []int{1, 4},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Config{Slots: tc.slots}, newRNG())
			set := c.Review(tc.peers, true, now)
			checkInvariants(t, c, tc.peers, set)
			if got := regularOf(c, set); !slices.Equal(got, tc.regular) {
				t.Errorf("regular = %v, want %v (optimistic %d)", got, tc.regular, c.Optimistic())
			}
			opt := c.Optimistic()
			switch {
			case len(tc.optFrom) == 0 && opt != -1:
				t.Errorf("optimistic = %d, want none", opt)
			case len(tc.optFrom) > 0 && !slices.Contains(tc.optFrom, opt):
				t.Errorf("optimistic = %d, want one of %v", opt, tc.optFrom)
			}
		})
	}
}

// TestSeedingRoundRobin runs many rounds with more interested peers than
// slots, all equally fast: every peer must be served, in turn.
func TestSeedingRoundRobin(t *testing.T) {
	const n = 12
	peers := make([]Peer, n)
	for i := range peers {
		peers[i] = Peer{ID: i, Interested: true, Choked: true, ConnectedAt: t0.Add(-time.Hour)}
	}
	c := New(Config{Slots: 4}, newRNG())
	served := map[int]int{}
	now := t0
	for range 60 { // 10 minutes of 10 s rounds
		set := c.Review(peers, true, now)
		checkInvariants(t, c, peers, set)
		for _, id := range regularOf(c, set) {
			served[id]++
		}
		apply(peers, set, now)
		for i := range peers { // everyone unchoked uploads at the same rate
			peers[i].UploadRate = 0
			if !peers[i].Choked {
				peers[i].UploadRate = 1000
			}
		}
		now = now.Add(10 * time.Second)
	}
	// 60 rounds x 4 slots = 240 slot-rounds over 12 peers = 20 each.
	for id := range n {
		if got := served[id]; got < 12 || got > 28 {
			t.Errorf("peer %d held a regular slot %d rounds, want about 20 (all: %v)", id, got, served)
		}
	}
}

// TestSeedingQuota: with a byte quota, an unchoked peer that has been sent
// its quota gives up its slot before its minute is up; without a quota, or
// below it, or with nobody waiting, it keeps the slot.
func TestSeedingQuota(t *testing.T) {
	now := t0
	const quota = 4 << 20
	// unchoked: unchoked 20 s ago and sent `sent` bytes since.
	unchoked := func(id int, sent int64) Peer {
		return Peer{ID: id, Interested: true, UploadRate: sent / 20, LastUnchoked: now.Add(-20 * time.Second),
			UploadedSinceUnchoke: sent, ConnectedAt: now.Add(-time.Hour)}
	}
	waiting := func(id int, ago time.Duration) Peer {
		return Peer{ID: id, Interested: true, Choked: true, LastUnchoked: now.Add(-ago), ConnectedAt: now.Add(-time.Hour)}
	}
	tests := []struct {
		name    string
		quota   int64
		peers   []Peer
		regular []int
	}{
		{
			name:  "peers sent their quota rotate to the longest-waiting",
			quota: quota,
			peers: []Peer{
				unchoked(1, quota), unchoked(2, 3<<20), unchoked(3, 5<<20), unchoked(4, 1<<20),
				waiting(5, 3*time.Minute), waiting(6, 2*time.Minute), waiting(7, time.Minute),
			},
			regular: []int{2, 4, 5, 6},
		},
		{
			name: "no quota: time alone rotates",
			peers: []Peer{
				unchoked(1, 100<<20), unchoked(2, 100<<20), unchoked(3, 100<<20), unchoked(4, 100<<20),
				waiting(5, 3*time.Minute),
			},
			regular: []int{1, 2, 3, 4},
		},
		{
			name:  "a peer over its quota keeps its slot when nobody else wants one",
			quota: quota,
			peers: []Peer{
				unchoked(1, 50<<20), unchoked(2, 1<<20),
				{ID: 3, Interested: false, Choked: true},
			},
			regular: []int{1, 2},
		},
		{
			name:  "the quota counts only for unchoked peers",
			quota: quota,
			peers: []Peer{
				func() Peer { p := waiting(1, 5*time.Minute); p.UploadedSinceUnchoke = 50 << 20; return p }(),
				unchoked(2, 1<<20), unchoked(3, 1<<20), unchoked(4, 1<<20), unchoked(5, 1<<20),
			},
			regular: []int{2, 3, 4, 5},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Config{Slots: 4, SeedQuota: tc.quota}, newRNG())
			set := c.Review(tc.peers, true, now)
			checkInvariants(t, c, tc.peers, set)
			if got := regularOf(c, set); !slices.Equal(got, tc.regular) {
				t.Errorf("regular = %v, want %v (optimistic %d)", got, tc.regular, c.Optimistic())
			}
		})
	}
	// SetSeedQuota switches the rule on and off between rounds.
	peers := []Peer{unchoked(1, 8<<20), waiting(2, time.Minute)}
	c := New(Config{Slots: 1}, newRNG())
	if got := regularOf(c, c.Review(peers, true, now)); !slices.Equal(got, []int{1}) {
		t.Errorf("without a quota: regular = %v, want [1]", got)
	}
	c = New(Config{Slots: 1}, newRNG())
	c.SetSeedQuota(quota)
	if got := regularOf(c, c.Review(peers, true, now)); !slices.Equal(got, []int{2}) {
		t.Errorf("with a quota: regular = %v, want [2]", got)
	}
	// Leeching ignores the quota.
	c = New(Config{Slots: 1, SeedQuota: quota}, newRNG())
	peers[0].DownloadRate = 1000
	if got := regularOf(c, c.Review(peers, false, now)); !slices.Equal(got, []int{1}) {
		t.Errorf("leeching: regular = %v, want [1]", got)
	}
}

// TestSeedingQuotaRoundRobin runs rounds with twelve peers of two speeds and
// a quota the fast ones reach within a round: slots turn over by data sent,
// so every peer gets about the same number of bytes, where rotating by time
// alone gives the fast peers several times more.
func TestSeedingQuotaRoundRobin(t *testing.T) {
	const n = 12
	rate := func(id int) int64 { // bytes/s while unchoked
		if id < 4 {
			return 400 << 10
		}
		return 100 << 10
	}
	run := func(quota int64) map[int]int64 {
		peers := make([]Peer, n)
		for i := range peers {
			peers[i] = Peer{ID: i, Interested: true, Choked: true, ConnectedAt: t0.Add(-time.Hour)}
		}
		c := New(Config{Slots: 4, SeedQuota: quota}, newRNG())
		got := map[int]int64{}
		now := t0
		for range 90 { // 15 minutes of 10 s rounds
			set := c.Review(peers, true, now)
			checkInvariants(t, c, peers, set)
			for i := range peers {
				p := &peers[i]
				if set[p.ID] && p.Choked {
					p.UploadedSinceUnchoke = 0 // a new unchoke starts a new count
				}
			}
			apply(peers, set, now)
			for i := range peers { // ten seconds of upload to every unchoked peer
				p := &peers[i]
				p.UploadRate = 0
				if !p.Choked {
					p.UploadRate = rate(p.ID)
					p.UploadedSinceUnchoke += 10 * rate(p.ID)
					got[p.ID] += 10 * rate(p.ID)
				}
			}
			now = now.Add(10 * time.Second)
		}
		return got
	}
	spread := func(got map[int]int64) float64 {
		var fast, slow int64
		for id := range n {
			if id < 4 {
				fast += got[id]
			} else {
				slow += got[id]
			}
		}
		return float64(fast/4) / float64(slow/8)
	}
	byTime := spread(run(0))
	byQuota := spread(run(4 << 20))
	// Time alone: fast peers hold slots as long as slow ones and get 4x the
	// bytes. A 4 MiB quota lets a fast peer (4 MiB per round) hold a slot one
	// round and a slow peer (1 MiB per round) about four.
	if byTime < 3 {
		t.Errorf("rotation by time: fast/slow bytes per peer = %.2f, want about 4", byTime)
	}
	if byQuota > 2 {
		t.Errorf("rotation by quota: fast/slow bytes per peer = %.2f, want close to 1", byQuota)
	}
	got := run(4 << 20)
	for id := range n {
		if got[id] == 0 {
			t.Errorf("peer %d was never served with a quota (all: %v)", id, got)
		}
	}
}

// TestSnubbedPeerLosesSlot unchokes a fast peer, then marks it snubbed: it
// must be choked at the next round (the optimistic slot is held by another).
func TestSnubbedPeerLosesSlot(t *testing.T) {
	peers := []Peer{
		{ID: 1, Interested: true, Choked: true, DownloadRate: 1 << 20},
		{ID: 2, Interested: true, Choked: true, DownloadRate: 500},
		{ID: 3, Interested: true, Choked: true, DownloadRate: 400},
		{ID: 4, Interested: true, Choked: true, DownloadRate: 300},
		{ID: 5, Interested: true, Choked: true, DownloadRate: 200},
		{ID: 6, Interested: true, Choked: true, DownloadRate: 100},
	}
	c := New(Config{}, newRNG())
	set := c.Review(peers, false, t0)
	if !set[1] || c.Optimistic() == 1 {
		t.Fatalf("fast peer 1 should hold a regular slot: %v (optimistic %d)", ids(set), c.Optimistic())
	}
	apply(peers, set, t0)
	peers[0].Snubbed = true
	set = c.Review(peers, false, t0.Add(10*time.Second))
	checkInvariants(t, c, peers, set)
	if set[1] {
		t.Errorf("snubbed peer 1 still unchoked: %v (optimistic %d)", ids(set), c.Optimistic())
	}
	if len(set) != 5 {
		t.Errorf("unchoked %v, want the 5 other peers", ids(set))
	}
}

func TestSlotCountChanges(t *testing.T) {
	peers := make([]Peer, 10)
	for i := range peers {
		peers[i] = Peer{ID: i, Interested: true, Choked: true, DownloadRate: int64(100 * i)}
	}
	c := New(Config{}, newRNG())
	tests := []struct {
		set       int
		wantSlots int
		regular   []int
	}{
		{set: 2, wantSlots: 2, regular: []int{8, 9}},
		{set: 6, wantSlots: 6, regular: []int{4, 5, 6, 7, 8, 9}},
		{set: 0, wantSlots: DefaultSlots, regular: []int{6, 7, 8, 9}},
		{set: -3, wantSlots: -1, regular: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{set: 1, wantSlots: 1, regular: []int{9}},
	}
	for i, tc := range tests {
		c.SetSlots(tc.set)
		if got := c.Slots(); got != tc.wantSlots {
			t.Errorf("SetSlots(%d): Slots() = %d, want %d", tc.set, got, tc.wantSlots)
		}
		// A fresh round with rotation due, so the optimistic peer is redrawn
		// from the peers left over.
		c.opt = -1
		set := c.Review(peers, false, t0.Add(time.Duration(i)*10*time.Second))
		checkInvariants(t, c, peers, set)
		if got := regularOf(c, set); !slices.Equal(got, tc.regular) {
			t.Errorf("SetSlots(%d): regular = %v, want %v", tc.set, got, tc.regular)
		}
	}
}

// TestOptimisticRotation checks that the optimistic peer holds its slot for
// exactly OptimisticEvery rounds, is never one of the regular peers, and is
// replaced by a different peer.
func TestOptimisticRotation(t *testing.T) {
	for _, every := range []int{1, 2, 3, 5} {
		peers := []Peer{{ID: 100, Interested: true, Choked: true, DownloadRate: 1 << 20}}
		for i := range 6 {
			peers = append(peers, Peer{ID: i, Interested: true, Choked: true, ConnectedAt: t0.Add(-time.Hour)})
		}
		c := New(Config{Slots: 1, OptimisticEvery: every}, newRNG())
		now := t0
		prev, held := -1, 0
		for round := range 30 {
			set := c.Review(peers, false, now)
			checkInvariants(t, c, peers, set)
			opt := c.Optimistic()
			if opt == -1 || opt == 100 {
				t.Fatalf("every=%d round %d: optimistic = %d, want one of the slow peers", every, round, opt)
			}
			if got := regularOf(c, set); !slices.Equal(got, []int{100}) {
				t.Fatalf("every=%d round %d: regular = %v, want [100]", every, round, got)
			}
			if len(set) != 2 {
				t.Fatalf("every=%d round %d: %d unchoked, want 2 (no double counting)", every, round, len(set))
			}
			if opt == prev {
				held++
			} else {
				if prev != -1 && held != every {
					t.Fatalf("every=%d round %d: optimistic %d held %d rounds, want %d", every, round, prev, held, every)
				}
				prev, held = opt, 1
			}
			apply(peers, set, now)
			now = now.Add(10 * time.Second)
		}
	}
}

func TestOptimisticReplacedWhenItLeaves(t *testing.T) {
	tests := []struct {
		name   string
		change func(peers []Peer, opt int) []Peer
	}{
		{"loses interest", func(peers []Peer, opt int) []Peer {
			for i := range peers {
				if peers[i].ID == opt {
					peers[i].Interested = false
				}
			}
			return peers
		}},
		{"disconnects", func(peers []Peer, opt int) []Peer {
			return slices.DeleteFunc(peers, func(p Peer) bool { return p.ID == opt })
		}},
		{"becomes a seed", func(peers []Peer, opt int) []Peer {
			for i := range peers {
				if peers[i].ID == opt {
					peers[i].Seed = true
				}
			}
			return peers
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			peers := []Peer{{ID: 100, Interested: true, Choked: true, DownloadRate: 1000}}
			for i := range 4 {
				peers = append(peers, Peer{ID: i, Interested: true, Choked: true})
			}
			c := New(Config{Slots: 1}, newRNG())
			set := c.Review(peers, false, t0)
			old := c.Optimistic()
			apply(peers, set, t0)
			peers = tc.change(peers, old)
			set = c.Review(peers, false, t0.Add(10*time.Second))
			checkInvariants(t, c, peers, set)
			if opt := c.Optimistic(); opt == old || opt == -1 {
				t.Errorf("optimistic = %d after peer %d left, want a new one", opt, old)
			}
			if set[old] {
				t.Errorf("departed optimistic %d still unchoked", old)
			}
		})
	}
}

// TestOptimisticKeptWhileSnubbed: the optimistic slot survives the peer
// becoming snubbed until rotation.
func TestOptimisticKeptWhileSnubbed(t *testing.T) {
	peers := []Peer{{ID: 100, Interested: true, Choked: true, DownloadRate: 1000}, {ID: 1, Interested: true, Choked: true}, {ID: 2, Interested: true, Choked: true}}
	c := New(Config{Slots: 1}, newRNG())
	set := c.Review(peers, false, t0)
	opt := c.Optimistic()
	apply(peers, set, t0)
	for i := range peers {
		if peers[i].ID == opt {
			peers[i].Snubbed = true
		}
	}
	set = c.Review(peers, false, t0.Add(10*time.Second))
	if c.Optimistic() != opt || !set[opt] {
		t.Errorf("optimistic %d dropped after being snubbed: now %d, set %v", opt, c.Optimistic(), ids(set))
	}
}

// TestOptimisticOnlyCandidateIsRedrawn: when the outgoing optimistic peer is
// the only candidate, it keeps the slot rather than being choked.
func TestOptimisticOnlyCandidateIsRedrawn(t *testing.T) {
	peers := []Peer{{ID: 100, Interested: true, Choked: true, DownloadRate: 1000}, {ID: 1, Interested: true, Choked: true}}
	c := New(Config{Slots: 1, OptimisticEvery: 1}, newRNG())
	now := t0
	for round := range 5 {
		set := c.Review(peers, false, now)
		if c.Optimistic() != 1 || !set[1] || !set[100] {
			t.Fatalf("round %d: set %v optimistic %d, want both peers with 1 optimistic", round, ids(set), c.Optimistic())
		}
		apply(peers, set, now)
		now = now.Add(10 * time.Second)
	}
}

// TestOptimisticPrefersNewPeers draws the optimistic peer many times from one
// new and three old peers: the new one has weight 3 of 6, so it should win
// about half the draws (a quarter if weights were equal).
func TestOptimisticPrefersNewPeers(t *testing.T) {
	rng := newRNG()
	tests := []struct {
		name      string
		newAge    time.Duration
		wantShare float64
	}{
		{"connected 10 s ago", 10 * time.Second, 0.5},
		{"connected 59 s ago", 59 * time.Second, 0.5},
		{"connected 2 min ago counts as old", 2 * time.Minute, 0.25},
	}
	const trials = 4000
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			peers := []Peer{
				{ID: 100, Interested: true, Choked: true, DownloadRate: 1000, ConnectedAt: t0.Add(-time.Hour)},
				{ID: 0, Interested: true, Choked: true, ConnectedAt: t0.Add(-tc.newAge)},
				{ID: 1, Interested: true, Choked: true, ConnectedAt: t0.Add(-time.Hour)},
				{ID: 2, Interested: true, Choked: true, ConnectedAt: t0.Add(-10 * time.Minute)},
				{ID: 3, Interested: true, Choked: true}, // unknown connect time counts as old
			}
			wins := map[int]int{}
			for range trials {
				c := New(Config{Slots: 1}, rng)
				c.Review(peers, false, t0)
				wins[c.Optimistic()]++
			}
			share := float64(wins[0]) / trials
			if share < tc.wantShare-0.05 || share > tc.wantShare+0.05 {
				t.Errorf("new peer won %.3f of draws, want about %.2f (wins %v)", share, tc.wantShare, wins)
			}
			oldShare := (1 - tc.wantShare) / 3
			for id := 1; id <= 3; id++ {
				if s := float64(wins[id]) / trials; s < oldShare-0.05 || s > oldShare+0.05 {
					t.Errorf("old peer %d won %.3f of draws, want about %.2f", id, s, oldShare)
				}
			}
		})
	}
}

func TestDuplicateIDsAndEmpty(t *testing.T) {
	c := New(Config{}, nil)
	if set := c.Review(nil, false, t0); set == nil || len(set) != 0 || c.Optimistic() != -1 {
		t.Fatalf("empty review: %v, optimistic %d", set, c.Optimistic())
	}
	peers := []Peer{
		{ID: 7, Interested: false},
		{ID: 7, Interested: true, DownloadRate: 1 << 20}, // duplicate: ignored
		{ID: 8, Interested: true},
	}
	set := c.Review(peers, false, t0)
	if set[7] {
		t.Errorf("duplicate entry for peer 7 was used: %v", ids(set))
	}
	if !set[8] {
		t.Errorf("peer 8 not unchoked: %v", ids(set))
	}
}

// TestRandomRoundsInvariants runs random peer sets through many rounds in
// both modes and checks the invariants, plus that the regular slots are
// filled whenever enough candidates exist.
func TestRandomRoundsInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, seeding := range []bool{false, true} {
		c := New(Config{Slots: 3}, rng)
		var peers []Peer
		now := t0
		for round := range 500 {
			// Mutate the swarm: add, drop and change peers.
			if len(peers) < 15 && rng.IntN(2) == 0 {
				peers = append(peers, Peer{ID: round, Choked: true, ConnectedAt: now})
			}
			if len(peers) > 0 && rng.IntN(4) == 0 {
				i := rng.IntN(len(peers))
				peers = slices.Delete(peers, i, i+1)
			}
			for i := range peers {
				p := &peers[i]
				p.Interested = rng.IntN(5) != 0
				p.Snubbed = rng.IntN(8) == 0
				p.Seed = rng.IntN(10) == 0
				p.DownloadRate = rng.Int64N(1000)
				p.UploadRate = rng.Int64N(1000)
			}
			set := c.Review(peers, seeding, now)
			checkInvariants(t, c, peers, set)
			eligible := 0
			for _, p := range peers {
				if regularEligible(p, seeding) && p.ID != c.Optimistic() {
					eligible++
				}
			}
			if want := min(eligible, c.Slots()); len(regularOf(c, set)) != want {
				t.Fatalf("seeding=%v round %d: %d regular, want %d", seeding, round, len(regularOf(c, set)), want)
			}
			apply(peers, set, now)
			now = now.Add(10 * time.Second)
		}
	}
}
