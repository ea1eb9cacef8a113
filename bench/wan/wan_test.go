package main

import (
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestScenarioIsDeterministicBySeed(t *testing.T) {
	for _, name := range []string{scenarioMixed, scenarioChurn, scenarioCrowd, scenarioSeeder} {
		p := defaultParams(name)
		a, err := buildScenario(name, p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := buildScenario(name, p)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("scenario %s: two builds with seed %d differ", name, p.Seed)
		}
		if name == scenarioSeeder {
			continue // one fixed seeder; only the leechers' distances are drawn
		}
		p.Seed = 2
		c, _ := buildScenario(name, p)
		if reflect.DeepEqual(a, c) {
			t.Errorf("scenario %s: seeds 1 and 2 give the same swarm", name)
		}
	}
}

func TestScenarioMixedMatchesTheIssue(t *testing.T) {
	s, err := buildScenario(scenarioMixed, defaultParams(scenarioMixed))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Seeders) != 12 || len(s.Leechers) != 1 {
		t.Fatalf("%d seeders, %d leechers; want 12 and 1", len(s.Seeders), len(s.Leechers))
	}
	l := s.Leechers[0].Link
	if l.Down != 200*Mbit || l.Up != 20*Mbit {
		t.Errorf("leecher link %v, want 20↑/200↓", l)
	}
	fast := 0
	for i, sd := range s.Seeders {
		rtt := sd.Link.RTT + l.RTT
		if sd.Link.Up < 2*Mbit || sd.Link.Up > 40*Mbit || rtt < 60*time.Millisecond || rtt > 240*time.Millisecond {
			t.Errorf("seeder %s: %v, RTT to the leecher %v: outside 2–40 Mbit/s, 60–240 ms", sd.Name, sd.Link, rtt)
		}
		if sd.Link.Loss != 0.002 || sd.Link.Queue < 32<<10 {
			t.Errorf("seeder %s: loss %v, queue %d", sd.Name, sd.Link.Loss, sd.Link.Queue)
		}
		if sd.Link.Up == 40*Mbit {
			fast++
			if want := []time.Duration{60, 140}[i] * time.Millisecond; i > 1 || rtt != want {
				t.Errorf("fast seeder %d at %v", i, rtt)
			}
		}
		if sd.Join != 0 || sd.Leave != 0 {
			t.Errorf("seeder %s churns in scenario a", sd.Name)
		}
	}
	if fast != 2 {
		t.Errorf("%d fast seeders, want 2", fast)
	}
	if _, err := buildScenario("e", defaultParams(scenarioMixed)); err == nil {
		t.Error("unknown scenario accepted")
	}
	p := defaultParams(scenarioChurn)
	p.Seeders = 2
	if _, err := buildScenario(scenarioChurn, p); err == nil {
		t.Error("scenario b with 2 seeders accepted")
	}
}

func TestScenarioChurn(t *testing.T) {
	s, err := buildScenario(scenarioChurn, defaultParams(scenarioChurn))
	if err != nil {
		t.Fatal(err)
	}
	var leave, join []float64
	fastLeaves := false
	for i, sd := range s.Seeders {
		if sd.Leave > 0 {
			leave = append(leave, sd.Leave)
			fastLeaves = fastLeaves || i < 2
		}
		if sd.Join > 0 {
			join = append(join, sd.Join)
			if sd.Leave > 0 {
				t.Errorf("joiner %s also leaves", sd.Name)
			}
		}
	}
	if len(s.Seeders) != 16 || len(leave) != 4 || len(join) != 4 {
		t.Fatalf("%d seeders, %d leaving, %d joining; want 16, 4, 4", len(s.Seeders), len(leave), len(join))
	}
	if !fastLeaves {
		t.Error("no fast seeder leaves")
	}
	for _, f := range slicesConcat(leave, join) {
		if f <= 0 || f >= 1 {
			t.Errorf("churn at %v of the ideal, want inside (0, 1)", f)
		}
	}
}

func slicesConcat(a, b []float64) []float64 { return append(append([]float64(nil), a...), b...) }

func approx(t *testing.T, what string, got, want time.Duration) {
	t.Helper()
	if d := math.Abs(got.Seconds() - want.Seconds()); d > 1e-6*want.Seconds()+1e-9 {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestIdealTimes(t *testing.T) {
	const size = 100 << 20
	bits := float64(size) * 8
	secs := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	seeder := func(name string, up int64) peerSpec { return peerSpec{Name: name, Link: linkSpec{Up: up, Down: 100 * Mbit}} }

	a := &scenario{Name: scenarioMixed, Size: size,
		Seeders:  []peerSpec{seeder("x", 40*Mbit), seeder("y", 10*Mbit)},
		Leechers: []peerSpec{{Name: "l", Link: linkSpec{Up: 20 * Mbit, Down: 200 * Mbit}}}}
	approx(t, "a: seeders' upload binds", a.idealTime(), secs(bits/50e6))
	a.Leechers[0].Link.Down = 20 * Mbit
	approx(t, "a: leecher's downlink binds", a.idealTime(), secs(bits/20e6))

	// b: x (10) leaves at 0.5, y (10) stays, z (20) joins at 0.25 of
	// T0 = size/20 Mbit/s. A quarter of the payload by 0.25·T0, at 40 Mbit/s
	// another half by 0.5·T0, the last quarter at 30 Mbit/s: T0/6 more.
	b := &scenario{Name: scenarioChurn, Size: size,
		Seeders:  []peerSpec{seeder("x", 10*Mbit), seeder("y", 10*Mbit), seeder("z", 20*Mbit)},
		Leechers: []peerSpec{{Name: "l", Link: linkSpec{Up: 20 * Mbit, Down: 200 * Mbit}}}}
	b.Seeders[0].Leave, b.Seeders[2].Join = 0.5, 0.25
	t0 := bits / 20e6
	approx(t, "b: static ideal", b.staticIdeal(), secs(t0))
	approx(t, "b: ideal with churn", b.idealTime(), secs(t0*(0.5+1.0/6)))
	// Everyone leaving before the end: no finite ideal.
	b.Seeders[1].Leave, b.Seeders[2].Leave = 0.3, 0.4
	if got := b.idealTime(); got != time.Duration(math.MaxInt64) {
		t.Errorf("b with every seeder gone: ideal %v, want the maximum duration", got)
	}

	// c: 2 seeders of 20, 4 leechers of 10 up, 50 down: one copy from the
	// seeders (size/40) < four copies over everyone's 80 (size/20).
	c := &scenario{Name: scenarioCrowd, Size: size, Seeders: []peerSpec{seeder("s1", 20*Mbit), seeder("s2", 20*Mbit)}}
	for range 4 {
		c.Leechers = append(c.Leechers, peerSpec{Link: linkSpec{Up: 10 * Mbit, Down: 50 * Mbit}})
	}
	approx(t, "c", c.idealTime(), secs(4*bits/80e6))
	// d: a 5 Mbit/s seeder is the bound.
	d := &scenario{Name: scenarioSeeder, Size: size, Seeders: []peerSpec{seeder("s", 5*Mbit)}, Leechers: c.Leechers}
	approx(t, "d", d.idealTime(), secs(bits/5e6))
	// The generated scenarios have finite, positive ideals.
	for _, name := range []string{scenarioMixed, scenarioChurn, scenarioCrowd, scenarioSeeder} {
		s, _ := buildScenario(name, defaultParams(name))
		if it := s.idealTime(); it <= 0 || it > time.Hour {
			t.Errorf("scenario %s: ideal %v", name, it)
		}
	}
}

func TestReportMarkdown(t *testing.T) {
	sc, err := buildScenario(scenarioMixed, params{Seed: 1, Size: 64 << 20, Seeders: 3, Loss: 0.002})
	if err != nil {
		t.Fatal(err)
	}
	ideal := sc.idealTime().Seconds()
	rep := newReport(sc, []string{clientGobit, clientLibtorrent, clientAnacrolix}, "bbr", 1500, 1<<20, "go run ./bench/wan -x")
	from := func(a, b, c int64) map[string]int64 { return map[string]int64{"s1": a << 20, "s2": b << 20, "s3": c << 20} }
	rep.rounds = []map[string]runResult{
		{clientGobit: {wall: 2 * ideal, cpu: 0.5, rss: 30 << 20, linkIn: 66 << 20, fromSeeder: from(10, 20, 30), emuCPU: 1, runWall: 10},
			clientLibtorrent: {wall: 4 * ideal, cpu: 1, rss: 50 << 20, linkIn: 64 << 20, fromSeeder: from(40, 20, 4), emuCPU: 3, runWall: 10}},
		{clientGobit: {wall: 4 * ideal, cpu: 0.5, rss: 30 << 20, linkIn: 70 << 20, fromSeeder: from(12, 20, 30), emuCPU: 2, runWall: 10},
			clientLibtorrent: {err: errors.New("boom")}},
	}
	rep.notes[clientAnacrolix] = "not installed"
	md := rep.markdown()
	for _, want := range []string{
		"**WAN scenario a**", "congestion control `bbr`", "`go run ./bench/wan -x`",
		"| client | time s | share of ideal | CPU s/GiB | peak RSS MiB | link in / payload | MiB beyond payload |",
		// gobit: median of 2 and 4 ideals; CPU 0.5 s per 1/16 GiB; link in median 68 MiB.
		"| gobit | " + ftoa(3*ideal, 1) + " | 38 % | 8.00 | 30 | 1.062 | 4.0 |",
		"| libtorrent | " + ftoa(4*ideal, 1) + " [1 failed] | 25 % [1 failed] |",
		"| anacrolix | n/a | n/a | n/a | n/a | n/a | n/a (not installed) |",
		"s1 40/60 | s2 40/140 |",
		"| gobit | 11.0 | 20.0 | 30.0 |",
		"| libtorrent | 40.0 [1 failed] |",
		"The link emulator used 2.0 s of CPU per run (median), 20 % of one core",
		"anacrolix: not installed.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "| anacrolix | 0") {
		t.Error("a client without runs got a row in the seeder table")
	}
}

func ftoa(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

func TestReportCrowdAndSeeder(t *testing.T) {
	sc, _ := buildScenario(scenarioCrowd, params{Seed: 1, Size: 16 << 20, Seeders: 2, Leechers: 4, Loss: 0.002})
	rep := newReport(sc, []string{clientGobit}, "cubic", 1500, 1<<20, "cmd")
	rep.rounds = []map[string]runResult{{clientGobit: {wall: 10, others: []float64{8, 12, 20}, linkIn: 17 << 20}}}
	md := rep.markdown()
	for _, want := range []string{"| gobit | 10.0 |", "| 12.0 | 0.83× |", "congestion control `cubic`"} {
		if !strings.Contains(md, want) {
			t.Errorf("scenario c report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "MiB sent by each seeder") {
		t.Error("scenario c has a per-seeder table")
	}
	sd, _ := buildScenario(scenarioSeeder, params{Seed: 1, Size: 16 << 20, Leechers: 4, Loss: 0.002})
	rep = newReport(sd, []string{clientGobit, clientLibtorrent}, "bbr", 1500, 1<<20, "cmd")
	rep.rounds = []map[string]runResult{{clientGobit: {wall: 20, cpu: 1, linkOut: 64 << 20}, clientLibtorrent: {wall: 30, cpu: 2, linkOut: 32 << 20}}}
	md = rep.markdown()
	for _, want := range []string{"swarm done s", "| gobit | 20.0 |", "| 16.00 |", "| 4.00 |", "| libtorrent | 30.0 |", "| 64.00 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("scenario d report lacks %q:\n%s", want, md)
		}
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-scenario", "a,d", "-size", "16MiB", "-clients", "gobit,aria2,libtorrent", "-seeders", "3"})
	if err != nil {
		t.Fatal(err)
	}
	if o.size != 16<<20 || len(o.scenarios) != 2 || o.cc != "bbr" || o.rounds != 3 {
		t.Errorf("options %+v", o)
	}
	if got := o.clientsFor(scenarioSeeder); !reflect.DeepEqual(got, []string{clientGobit, clientLibtorrent}) {
		t.Errorf("scenario d clients %v", got)
	}
	if p := o.scenarioParams(scenarioMixed); p.Seeders != 3 || p.Size != 16<<20 {
		t.Errorf("params %+v", p)
	}
	if p := o.scenarioParams(scenarioSeeder); p.Seeders != 1 || p.Leechers != 20 {
		t.Errorf("scenario d params %+v", p)
	}
	for _, bad := range [][]string{
		{"-scenario", "e"}, {"-clients", "qbittorrent"}, {"-rounds", "0"}, {"-size", "0"},
		{"-loss", "1"}, {"-seeders", "-1"}, {"-mtu", "100"}, {"extra"},
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}
