package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func evStatus(hash string, state State, progress float64) Status {
	return Status{InfoHash: hash, Name: "t-" + hash, State: state, Progress: progress, TotalSize: 1000,
		Completed: int64(progress * 1000), ETASeconds: -1}
}

// nextEvent returns the subscription's next event, failing after a wide
// deadline.
func nextEvent(t *testing.T, sub *Subscription) Event {
	t.Helper()
	select {
	case ev, ok := <-sub.Events():
		if !ok {
			t.Fatalf("subscription ended: %v", sub.Err())
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return Event{}
}

// drainEvents returns the events queued on sub, without waiting.
func drainEvents(sub *Subscription) []Event {
	var out []Event
	for {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				return out
			}
			out = append(out, ev)
		default:
			return out
		}
	}
}

func TestBrokerSnapshotFirstThenEventsInOrder(t *testing.T) {
	b := NewBroker(BrokerConfig{})
	b.Added(evStatus("a", StateDownloading, 0.1))
	b.Added(evStatus("b", StatePaused, 0.5))
	b.Added(evStatus("a", StateSeeding, 1)) // already known: ignored
	sub, err := b.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()

	ev := nextEvent(t, sub)
	snap, ok := ev.Data.(Snapshot)
	if ev.Type != EventSnapshot || !ok {
		t.Fatalf("first event %s %T, want a snapshot", ev.Type, ev.Data)
	}
	if len(snap.Torrents) != 2 || snap.Torrents[0].InfoHash != "a" || snap.Torrents[1].InfoHash != "b" {
		t.Fatalf("snapshot %+v, want a then b", snap.Torrents)
	}
	if snap.Torrents[0].State != StateDownloading {
		t.Errorf("snapshot kept the ignored second add: %s", snap.Torrents[0].State)
	}
	if snap.Stats.Torrents != 2 || snap.Stats.States[StatePaused] != 1 || snap.Stats.States[StateDownloading] != 1 {
		t.Errorf("snapshot stats %+v", snap.Stats)
	}

	b.Added(evStatus("c", StateMetadata, 0))
	b.Update([]Status{evStatus("a", StateSeeding, 1), evStatus("b", StatePaused, 0.5), evStatus("zzz", StateSeeding, 1)})
	b.PublishStats()
	b.Removed("b")
	b.Removed("b") // unknown now: ignored

	var got []string
	var last uint64 = ev.ID
	for _, ev := range drainEvents(sub) {
		if ev.ID <= last {
			t.Errorf("event %s has ID %d after %d", ev.Type, ev.ID, last)
		}
		last = ev.ID
		desc := string(ev.Type)
		switch d := ev.Data.(type) {
		case Status:
			desc += " " + d.InfoHash
		case StateChange:
			desc += fmt.Sprintf(" %s %s->%s", d.InfoHash, d.PreviousState, d.State)
		case TorrentRemoved:
			desc += " " + d.InfoHash
		case SessionStats:
			desc += fmt.Sprintf(" %d seeding=%d", d.Torrents, d.States[StateSeeding])
		default:
			t.Errorf("event %s carries %T", ev.Type, ev.Data)
		}
		got = append(got, desc)
	}
	want := []string{
		"torrent-added c",
		"torrent-state a downloading->seeding",
		"session-stats 3 seeding=1",
		"torrent-removed b",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events\n%q\nwant\n%q", got, want)
	}

	// A later subscriber's snapshot is the view those events built.
	sub2, err := b.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Cancel()
	snap = nextEvent(t, sub2).Data.(Snapshot)
	if len(snap.Torrents) != 2 || snap.Torrents[0].InfoHash != "a" || snap.Torrents[0].State != StateSeeding || snap.Torrents[1].InfoHash != "c" {
		t.Errorf("second snapshot %+v", snap.Torrents)
	}
}

func TestBrokerThrottlesProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBroker(BrokerConfig{ProgressInterval: time.Second, QueueSize: 1000})
		b.Added(evStatus("a", StateDownloading, 0))
		b.Added(evStatus("idle", StateDownloading, 0.5))
		sub, err := b.Subscribe()
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Cancel()

		// Progress moves at every 100 ms tick for 10 s; the idle torrent
		// does not move.
		ticks := 0
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			b.Run(stop, 100*time.Millisecond, 2, func() []Status {
				ticks++
				return []Status{evStatus("a", StateDownloading, float64(ticks)/1000), evStatus("idle", StateDownloading, 0.5)}
			})
		}()
		time.Sleep(10*time.Second + 50*time.Millisecond)
		close(stop)
		<-done

		var times []time.Duration
		var lastProgress float64
		stats := 0
		for _, ev := range drainEvents(sub) {
			switch ev.Type {
			case EventProgress:
				p := ev.Data.(Progress)
				if p.InfoHash != "a" {
					t.Errorf("progress event for %s, which did not move", p.InfoHash)
				}
				times = append(times, time.Duration(p.Progress*1000)*100*time.Millisecond)
				lastProgress = p.Progress
			case EventStats:
				stats++
			}
		}
		if len(times) != 10 {
			t.Fatalf("%d progress events in 10 s of change, want 10 (one a second)", len(times))
		}
		for i := 1; i < len(times); i++ {
			if gap := times[i] - times[i-1]; gap < time.Second {
				t.Errorf("progress events %d and %d only %v apart", i-1, i, gap)
			}
		}
		if stats != 50 {
			t.Errorf("%d session-stats events in 100 ticks, want one every other tick", stats)
		}

		// A change held back by the throttle is sent at a later tick.
		b.Update([]Status{evStatus("a", StateDownloading, 0.5)})
		if evs := drainEvents(sub); countEvents(evs, EventProgress) != 0 {
			t.Errorf("progress event within the interval: %v", evs)
		}
		time.Sleep(time.Second)
		b.Update([]Status{evStatus("a", StateDownloading, 0.5)})
		evs := drainEvents(sub)
		if countEvents(evs, EventProgress) != 1 || evs[0].Data.(Progress).Progress != 0.5 {
			t.Errorf("held-back progress not sent once the interval passed: %v (last before %v)", evs, lastProgress)
		}
		// Nothing moves: no progress event.
		time.Sleep(2 * time.Second)
		b.Update([]Status{evStatus("a", StateDownloading, 0.5)})
		if evs := drainEvents(sub); countEvents(evs, EventProgress) != 0 {
			t.Errorf("progress event without a change: %v", evs)
		}
	})
}

func countEvents(evs []Event, typ EventType) int {
	n := 0
	for _, ev := range evs {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

func TestBrokerDropsSlowSubscriber(t *testing.T) {
	b := NewBroker(BrokerConfig{QueueSize: 4})
	slow, err := b.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	fast, err := b.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Cancel()
	// The publisher never waits for the slow reader: 100 adds return at
	// once although it reads nothing.
	got := 0
	for i := range 100 {
		b.Added(evStatus(fmt.Sprint(i), StateDownloading, 0))
		got += len(drainEvents(fast))
	}
	n := 0
	for range slow.Events() { // closed: the loop ends
		n++
	}
	if n != 5 {
		t.Errorf("slow subscriber received %d events before it was dropped, want 5 (snapshot and a full queue)", n)
	}
	if !errors.Is(slow.Err(), ErrOverflow) {
		t.Errorf("slow subscriber's error %v, want ErrOverflow", slow.Err())
	}
	if got != 101 {
		t.Errorf("fast subscriber got %d events, want the snapshot and 100 adds", got)
	}
	if fast.Err() != nil {
		t.Errorf("fast subscriber ended: %v", fast.Err())
	}
	if b.Subscribers() != 1 {
		t.Errorf("%d subscribers, want 1", b.Subscribers())
	}
}

func TestBrokerCancelLimitAndClose(t *testing.T) {
	b := NewBroker(BrokerConfig{MaxSubscribers: 2})
	s1, err := b.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	s2, err := b.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Subscribe(); !errors.Is(err, ErrTooManySubscribers) {
		t.Fatalf("third subscription: %v, want ErrTooManySubscribers", err)
	}
	s1.Cancel()
	s1.Cancel()
	drainEvents(s1)
	if _, ok := <-s1.Events(); ok {
		t.Error("cancelled subscription's channel is open")
	}
	if s1.Err() != nil {
		t.Errorf("cancelled subscription's error %v, want nil", s1.Err())
	}
	b.Added(evStatus("a", StateDownloading, 0)) // not sent to s1
	s3, err := b.Subscribe()
	if err != nil {
		t.Fatalf("subscription after a cancel: %v", err)
	}
	b.Close()
	for _, s := range []*Subscription{s2, s3} {
		drainEvents(s)
		if _, ok := <-s.Events(); ok {
			t.Error("subscription open after Close")
		}
		if !errors.Is(s.Err(), ErrClosed) {
			t.Errorf("error after Close %v, want ErrClosed", s.Err())
		}
	}
	if _, err := b.Subscribe(); !errors.Is(err, ErrClosed) {
		t.Errorf("subscription after Close: %v", err)
	}
	b.Added(evStatus("b", StateDownloading, 0)) // no panic on closed channels
	b.Update(nil)
}

// TestSessionEvents checks the session's hooks: restored torrents are in
// the first snapshot, adds and removes are told at once, a pause within
// a tick or so, and Close ends the subscription.
func TestSessionEvents(t *testing.T) {
	dataDir, dl := t.TempDir(), t.TempDir()
	data, mi := makeTorrent(t)
	s, err := New(Config{DownloadDir: dl, DataDir: dataDir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(context.Background(), AddRequest{Torrent: data, Paused: true}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = New(Config{DownloadDir: dl, DataDir: dataDir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sub, err := s.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	snap := nextEvent(t, sub).Data.(Snapshot)
	h := mi.InfoHash.String()
	if len(snap.Torrents) != 1 || snap.Torrents[0].InfoHash != h || snap.Torrents[0].State != StatePaused {
		t.Fatalf("snapshot after a restart: %+v", snap.Torrents)
	}
	if err := s.Resume(h); err != nil {
		t.Fatal(err)
	}
	for {
		ev := nextEvent(t, sub)
		if c, ok := ev.Data.(StateChange); ok {
			if c.PreviousState != StatePaused || c.InfoHash != h {
				t.Errorf("state change %s %s -> %s", c.InfoHash, c.PreviousState, c.State)
			}
			break
		}
	}
	if err := s.Remove(h, true); err != nil {
		t.Fatal(err)
	}
	for {
		ev := nextEvent(t, sub)
		if r, ok := ev.Data.(TorrentRemoved); ok {
			if r.InfoHash != h {
				t.Errorf("removed %s", r.InfoHash)
			}
			break
		}
	}
	magnet := "magnet:?xt=urn:btih:" + strings.Repeat("ab", 20) + "&dn=later"
	if _, err := s.Add(context.Background(), AddRequest{URI: magnet, Paused: true}); err != nil {
		t.Fatal(err)
	}
	// Told at once: no tick between the add and its event is needed, so
	// the event is already queued.
	var added *Status
	for _, ev := range drainEvents(sub) {
		if st, ok := ev.Data.(Status); ok && ev.Type == EventAdded {
			added = &st
		}
	}
	if added == nil || added.Name != "later" || added.State != StatePaused {
		t.Fatalf("no torrent-added queued right after Add: %+v", added)
	}
	s.Close()
	drainEvents(sub)
	if _, ok := <-sub.Events(); ok || !errors.Is(sub.Err(), ErrClosed) {
		t.Errorf("subscription after Close: open %v, err %v", ok, sub.Err())
	}
}

// BenchmarkBrokerUpdate measures one tick over 2,000 torrents that all
// moved, with one subscriber reading.
func BenchmarkBrokerUpdate(b *testing.B) {
	br := NewBroker(BrokerConfig{ProgressInterval: time.Nanosecond, QueueSize: 1 << 16})
	list := make([]Status, 2000)
	for i := range list {
		list[i] = evStatus(fmt.Sprintf("%040x", i), StateDownloading, 0)
		br.Added(list[i])
	}
	sub, err := br.Subscribe()
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Cancel()
	go func() {
		for range sub.Events() {
		}
	}()
	b.ResetTimer()
	for n := range b.N {
		for i := range list {
			list[i].Downloaded = int64(n + 1)
		}
		br.Update(list)
		br.PublishStats()
	}
}

// TestBrokerIdleWithoutSubscribers: with nobody subscribed, Run does not
// list the torrents at all (10,000 of them twice a second cost a daemon
// most of its idle CPU); a subscriber arriving then gets a snapshot of the
// list refreshed first, and the changes of the idle time are no events.
func TestBrokerIdleWithoutSubscribers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBroker(BrokerConfig{})
		b.Added(evStatus("a", StateDownloading, 0))
		lists := 0
		cur := evStatus("a", StateDownloading, 0)
		list := func() []Status { lists++; return []Status{cur} }
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			b.Run(stop, 100*time.Millisecond, 2, list)
		}()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if lists != 0 {
			t.Errorf("listed the torrents %d times with no subscriber", lists)
		}
		if !b.Stale() {
			t.Error("view not marked stale after skipped updates")
		}
		cur = evStatus("a", StateSeeding, 1)
		b.Refresh(list())
		sub, err := b.Subscribe()
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Cancel()
		snap := nextEvent(t, sub).Data.(Snapshot)
		if len(snap.Torrents) != 1 || snap.Torrents[0].State != StateSeeding {
			t.Errorf("snapshot after idle time = %+v, want the refreshed state", snap.Torrents)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if lists < 5 {
			t.Errorf("listed %d times in a second with a subscriber, want every tick", lists)
		}
		if evs := drainEvents(sub); countEvents(evs, EventState)+countEvents(evs, EventProgress) != 0 {
			t.Errorf("events for changes made while nobody listened: %v", evs)
		}
		close(stop)
		<-done
	})
}
