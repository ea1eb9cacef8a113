package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Scenario names accepted by -scenario.
const (
	scenarioMixed  = "a" // mixed seeders, one leecher
	scenarioChurn  = "b" // a with seeders leaving and joining
	scenarioCrowd  = "c" // one of many leechers, two seeders
	scenarioSeeder = "d" // the client as the only seeder
)

// Mbit is one megabit per second in bits per second.
const Mbit = 1_000_000

// linkSpec is one node's access link: the rates its node sends (up) and
// receives (down) at, its share of every round trip, its random loss and
// its queue. Each direction is delayed by half of RTT, so that two nodes
// whose RTTs are r1 and r2 see a round trip of r1+r2.
type linkSpec struct {
	Up, Down int64 // bits per second
	RTT      time.Duration
	Loss     float64 // per packet, each direction
	Queue    int     // bytes of queue in each direction
}

// String formats the link for a caption: "40↑/200↓ Mbit/s, 60 ms".
func (l linkSpec) String() string {
	return fmt.Sprintf("%s↑/%s↓ Mbit/s, %d ms", mbit(l.Up), mbit(l.Down), l.RTT.Milliseconds())
}

func mbit(bps int64) string {
	v := float64(bps) / Mbit
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// peerSpec is one node of a scenario other than the tracker.
type peerSpec struct {
	Name string
	Link linkSpec
	// Join and Leave are fractions of the scenario's static ideal time
	// (seeders only): Join > 0 starts the seeder that late, Leave > 0
	// stops it then.
	Join, Leave float64
}

// label is the seeder's column title in the per-seeder table: its name,
// upload rate and its round trip to a leecher whose share of every round
// trip is leecherRTT.
func (p peerSpec) label(leecherRTT time.Duration) string {
	s := fmt.Sprintf("%s %s/%d", p.Name, mbit(p.Link.Up), (p.Link.RTT + leecherRTT).Milliseconds())
	switch {
	case p.Join > 0 && p.Leave > 0:
		s += fmt.Sprintf(" (%.0f–%.0f %%)", 100*p.Join, 100*p.Leave)
	case p.Join > 0:
		s += fmt.Sprintf(" (joins %.0f %%)", 100*p.Join)
	case p.Leave > 0:
		s += fmt.Sprintf(" (leaves %.0f %%)", 100*p.Leave)
	}
	return s
}

// scenario is everything a run needs to build its swarm: the links of
// every node. Leechers[0] is the client under test in a, b and c; in d the
// client under test is Seeders[0] and every leecher is libtorrent.
type scenario struct {
	Name     string
	Title    string
	Seeders  []peerSpec
	Leechers []peerSpec
	Tracker  linkSpec
	Size     int64
}

// params are the knobs of scenario generation (from the flags).
type params struct {
	Seed     uint64
	Size     int64
	Seeders  int // a and b: initial seeders (12); c: seeders (2)
	Leechers int // c and d: leechers (20)
	Loss     float64
}

// defaultParams returns the sizes for scenario name.
func defaultParams(name string) params {
	p := params{Seed: 1, Size: 256 << 20, Loss: 0.002, Seeders: 12, Leechers: 20}
	if name == scenarioCrowd {
		p.Seeders = 2
	}
	if name == scenarioSeeder {
		p.Seeders = 1
	}
	return p
}

// queueFor sizes a link's queue: 100 ms at its faster rate, at least
// 32 KiB and at most 4 MiB (a home router's buffer, not an unbounded one).
func queueFor(up, down int64) int {
	q := max(up, down) / 8 / 10
	return int(min(max(q, 32<<10), 4<<20))
}

func mkLink(up, down int64, rtt time.Duration, loss float64) linkSpec {
	return linkSpec{Up: up, Down: down, RTT: rtt, Loss: loss, Queue: queueFor(up, down)}
}

// leecherLink is the downloader's line in a and b: 200 Mbit/s down,
// 20 up, 10 ms of the round trip, no loss of its own.
func leecherLink() linkSpec { return mkLink(20*Mbit, 200*Mbit, 10*time.Millisecond, 0) }

// slowRates are the upload rates (Mbit/s) the random seeders of a and b
// draw from: mostly home lines, so that the two fast seeders carry about
// half of the swarm's upload, as in the issue.
var slowRates = []int64{2, 2, 3, 4, 5, 6, 8, 10, 12, 16}

// randomSeeder draws a seeder whose total round trip to a leecher with
// leecherRTT is 60–240 ms.
func randomSeeder(rng *rand.Rand, name string, leecherRTT time.Duration, loss float64) peerSpec {
	up := slowRates[rng.IntN(len(slowRates))] * Mbit
	rtt := time.Duration(60+10*rng.IntN(19))*time.Millisecond - leecherRTT
	return peerSpec{Name: name, Link: mkLink(up, min(5*up, 100*Mbit), rtt, loss)}
}

// buildScenario returns scenario name for p; the same p gives the same
// scenario.
func buildScenario(name string, p params) (*scenario, error) {
	if p.Size <= 0 {
		return nil, fmt.Errorf("size %d: want a positive size", p.Size)
	}
	rng := rand.New(rand.NewPCG(p.Seed, 0x9e3779b97f4a7c15^uint64(name[0])))
	s := &scenario{Name: name, Size: p.Size, Tracker: mkLink(10*Mbit, 10*Mbit, 20*time.Millisecond, 0)}
	switch name {
	case scenarioMixed, scenarioChurn:
		if p.Seeders < 1 || p.Seeders > 64 {
			return nil, fmt.Errorf("seeders %d: want 1..64", p.Seeders)
		}
		l := leecherLink()
		s.Leechers = []peerSpec{{Name: "leecher", Link: l}}
		// The two fast seeders of the issue: 40 Mbit/s at 60 and 140 ms.
		fast := []time.Duration{60 * time.Millisecond, 140 * time.Millisecond}
		for i := range p.Seeders {
			name := fmt.Sprintf("s%d", i+1)
			if i < len(fast) {
				s.Seeders = append(s.Seeders, peerSpec{Name: name, Link: mkLink(40*Mbit, 100*Mbit, fast[i]-l.RTT, p.Loss)})
				continue
			}
			s.Seeders = append(s.Seeders, randomSeeder(rng, name, l.RTT, p.Loss))
		}
		s.Title = fmt.Sprintf("%d seeders of mixed speed and distance, one leecher", p.Seeders)
		if name == scenarioChurn {
			if p.Seeders < 3 {
				return nil, fmt.Errorf("scenario b needs at least 3 seeders, not %d", p.Seeders)
			}
			churn(rng, s, l.RTT, p.Loss)
			s.Title = fmt.Sprintf("%d seeders of mixed speed and distance, a third leaving and as many joining mid-download, one leecher", p.Seeders)
		}
	case scenarioCrowd:
		if p.Seeders < 1 || p.Leechers < 2 || p.Seeders+p.Leechers > 128 {
			return nil, fmt.Errorf("seeders %d, leechers %d: want at least 1 and 2, at most 128 in all", p.Seeders, p.Leechers)
		}
		for i := range p.Seeders {
			s.Seeders = append(s.Seeders, peerSpec{Name: fmt.Sprintf("s%d", i+1),
				Link: mkLink(20*Mbit, 100*Mbit, time.Duration(40+40*(i%4))*time.Millisecond, p.Loss)})
		}
		s.Leechers = crowd(rng, p.Leechers, p.Loss)
		s.Title = fmt.Sprintf("the client as one of %d leechers (the others libtorrent), %d libtorrent seeders", p.Leechers, p.Seeders)
	case scenarioSeeder:
		if p.Leechers < 1 || p.Leechers > 127 {
			return nil, fmt.Errorf("leechers %d: want 1..127", p.Leechers)
		}
		s.Seeders = []peerSpec{{Name: "seeder", Link: mkLink(20*Mbit, 100*Mbit, 60*time.Millisecond, p.Loss)}}
		s.Leechers = crowd(rng, p.Leechers, p.Loss)
		s.Title = fmt.Sprintf("the client as the only seeder for %d libtorrent leechers", p.Leechers)
	default:
		return nil, fmt.Errorf("scenario %q: want a, b, c or d", name)
	}
	return s, nil
}

// crowd returns n leechers on the same class of line (50 Mbit/s down,
// 10 up) at different distances (40–200 ms of round trip), so that in
// scenario c the client under test (the first, at 100 ms) is compared with
// leechers that differ from it only by distance.
func crowd(rng *rand.Rand, n int, loss float64) []peerSpec {
	out := make([]peerSpec, n)
	for i := range out {
		rtt := 100 * time.Millisecond
		if i > 0 {
			rtt = time.Duration(40+10*rng.IntN(17)) * time.Millisecond
		}
		out[i] = peerSpec{Name: fmt.Sprintf("l%d", i+1), Link: mkLink(10*Mbit, 50*Mbit, rtt, loss)}
	}
	return out
}

// churn marks a third of s's seeders (chosen by rng, always including one
// of the fast ones when there are two) to leave at 20, 35, 50, ... % of the
// static ideal time, and adds as many new seeders joining at 10, 25, 40,
// ... %.
func churn(rng *rand.Rand, s *scenario, leecherRTT time.Duration, loss float64) {
	n := len(s.Seeders) / 3
	idx := rng.Perm(len(s.Seeders))[:n]
	if len(s.Seeders) >= 2 && !slices.Contains(idx, 0) && !slices.Contains(idx, 1) {
		idx[0] = 1 // the fast seeder at 140 ms
	}
	slices.Sort(idx)
	for k, i := range idx {
		s.Seeders[i].Leave = 0.20 + 0.15*float64(k)
	}
	for k := range n {
		p := randomSeeder(rng, fmt.Sprintf("j%d", k+1), leecherRTT, loss)
		p.Join = 0.10 + 0.15*float64(k)
		s.Seeders = append(s.Seeders, p)
	}
}

// staticIdeal is the completion time of a and b without churn: the payload
// over the smaller of the seeders' summed upload and the leecher's
// downlink (for c and d, see idealTime).
func (s *scenario) staticIdeal() time.Duration {
	var up int64
	for _, p := range s.Seeders {
		if p.Join == 0 {
			up += p.Link.Up
		}
	}
	return bitsOver(s.Size, min(up, s.Leechers[0].Link.Down))
}

func bitsOver(bytes, bps int64) time.Duration {
	if bps <= 0 {
		return 0
	}
	return time.Duration(float64(bytes) * 8 / float64(bps) * float64(time.Second))
}

// idealTime is the shortest possible completion time, the yardstick of
// "share of the ideal":
//   - a: payload / min(sum of the seeders' upload, the leecher's downlink);
//   - b: the same with the capacity changing as seeders leave and join
//     (at fractions of a's ideal), integrated over time;
//   - c and d (the whole swarm): the largest of payload / seeders' upload
//     (one copy must leave the seeders), leechers × payload / everyone's
//     upload, and payload / a leecher's downlink.
func (s *scenario) idealTime() time.Duration {
	switch s.Name {
	case scenarioMixed:
		return s.staticIdeal()
	case scenarioChurn:
		return s.churnIdeal()
	}
	var seedUp, allUp int64
	for _, p := range s.Seeders {
		seedUp += p.Link.Up
	}
	allUp = seedUp
	minDown := int64(math.MaxInt64)
	for _, p := range s.Leechers {
		allUp += p.Link.Up
		minDown = min(minDown, p.Link.Down)
	}
	return max(bitsOver(s.Size, seedUp), bitsOver(s.Size*int64(len(s.Leechers)), allUp), bitsOver(s.Size, minDown))
}

// churnIdeal integrates the swarm's capacity, min(sum of the present
// seeders' upload, the leecher's downlink), from 0 until it has carried the
// payload; seeders join and leave at their fractions of staticIdeal.
func (s *scenario) churnIdeal() time.Duration {
	base := s.staticIdeal().Seconds()
	type event struct {
		at float64 // seconds
		up int64   // change in summed upload
	}
	var evs []event
	var up int64
	for _, p := range s.Seeders {
		if p.Join == 0 {
			up += p.Link.Up
		} else {
			evs = append(evs, event{p.Join * base, p.Link.Up})
		}
		if p.Leave > 0 {
			evs = append(evs, event{p.Leave * base, -p.Link.Up})
		}
	}
	slices.SortFunc(evs, func(a, b event) int { return cmpFloat(a.at, b.at) })
	down := s.Leechers[0].Link.Down
	left := float64(s.Size) * 8 // bits
	now := 0.0
	for _, e := range evs {
		rate := float64(min(up, down))
		if rate > 0 && left <= rate*(e.at-now) {
			break
		}
		left -= rate * (e.at - now)
		now, up = e.at, up+e.up
	}
	rate := float64(min(up, down))
	if rate <= 0 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration((now + left/rate) * float64(time.Second))
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
