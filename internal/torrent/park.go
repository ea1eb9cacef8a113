package torrent

import (
	"math/rand/v2"
	"time"
)

// Parking. A torrent with nothing to do (seeding or paused or stopped by
// an error, with no peers, dials, disk jobs, moves or stream readers, and
// no command for parkAfter) parks: its loop goroutine exits, its tick
// stops, and the loop-owned state stays as it was, owned by nobody until
// the next loop starts. Everything that sends the loop a message goes
// through enter and leave, which start the loop again when it is parked,
// so the state still has one owner at a time: the running loop. A parked
// torrent holds no goroutine and no ticker; one runtime timer (wakeTimer)
// brings it back when it has something to do (wakeAfter): when a known
// peer's redial time comes (a seed redials the leechers that left), when
// its seeding time limit is reached, and otherwise every parkWake or so,
// to run the tick (the presence check of its files) and park again. A
// paused torrent, or one stopped by an error, has nothing to do and no
// timer. An incoming connection and any API call wake it at once; peers
// from the tracker, the DHT, LSD or the API (AddPeers) are recorded
// without waking it unless one of them can be dialled now, so a tracker's
// answer that brings no new peer costs a parked torrent nothing.
//
// parkMu guards parked and senders. A sender counted in senders has its
// message on the way; the loop parks only with no sender counted and every
// channel empty, under parkMu, so no message can be left in a channel of a
// parked torrent.

// parkAfter is how long a torrent stays awake after its last message other
// than a tick: long enough for the shown rates to fall to zero
// (rateIdleTicks) and for a burst of API calls not to park and wake it
// each time.
const parkAfter = (rateIdleTicks + 1) * time.Second

// parkWake is how often a parked torrent with nothing due wakes to run its
// tick, less up to parkSpread so that torrents parked together do not wake
// together. What that tick still does for a parked seed is the presence
// check of its files (seed limits, redials and announces have deadlines
// or triggers of their own); a file deleted under an idle torrent is
// noticed within parkWake, or at once by a peer's or a stream's read. A
// wake costs about a third of a millisecond; with 10,000 parked torrents
// a wake a minute was most of the daemon's idle CPU (8.7 % of a core:
// docs/performance.md).
const (
	parkWake   = 15 * time.Minute
	parkSpread = 5 * time.Minute
)

// parkRetry is how soon a parked torrent wakes again when a peer could be
// dialled already but was not (the session's connection limit was
// reached when it tried).
const parkRetry = time.Minute

// enter counts a sender that is about to send the loop a message, and
// starts the loop if it is parked. The sender calls leave once its send
// is done (or abandoned).
func (t *Torrent) enter() {
	t.parkMu.Lock()
	t.senders++
	if t.parked {
		t.parked = false
		go t.loop()
	}
	t.parkMu.Unlock()
}

// leave ends what enter began.
func (t *Torrent) leave() {
	t.parkMu.Lock()
	t.senders--
	t.parkMu.Unlock()
}

// ownParked runs fn with the loop's rights when the torrent is parked,
// without starting the loop, and reports whether it did. parkMu is held
// meanwhile, so no sender can start the loop: fn is the state's only user,
// as the loop would be. fn must be quick and must not wait for the loop.
// Reads of a parked torrent (its detail, its resume data) and Close use it,
// so that listing or saving 10,000 parked torrents wakes none of them.
func (t *Torrent) ownParked(fn func()) bool {
	t.parkMu.Lock()
	defer t.parkMu.Unlock()
	if !t.parked {
		return false
	}
	fn()
	return true
}

// read runs fn, which only reads the loop's state, on the loop, or at once
// with the state owned when the torrent is parked (ownParked): a read
// never wakes a parked torrent.
func (t *Torrent) read(fn func()) error {
	if t.ownParked(fn) {
		return nil
	}
	return t.do(fn)
}

// Parked reports whether the torrent is parked: its loop has exited and
// it holds no goroutine until a message wakes it.
func (t *Torrent) Parked() bool {
	t.parkMu.Lock()
	defer t.parkMu.Unlock()
	return t.parked
}

// wake is wakeTimer's function. A parked torrent whose wake finds nothing
// to do but the presence check of its files (the periodic wake, every
// parkWake) runs that check with its state owned (ownParked), re-arms the
// timer and stays parked: no goroutine, ticker or snapshot for it.
// Otherwise (a peer to dial, a seeding limit reached, files gone, or the
// loop running already) it has the loop run a tick.
func (t *Torrent) wake() {
	stay := false
	t.ownParked(func() { stay = t.parkedWake(time.Now()) })
	if stay {
		return
	}
	t.enter()
	select {
	case t.wakeC <- struct{}{}:
	default: // a wake is already queued
	}
	t.leave()
}

// parkedWake does what a tick would for a parked torrent that has nothing
// due, and reports true, or reports false when the loop must run its tick:
// a known peer may be dialled, a seeding limit is reached or the files are
// gone (the tick then stops the torrent with the error). It runs with the
// parked torrent's state owned.
func (t *Torrent) parkedWake(now time.Time) bool {
	if at, ok := t.nextDial(); ok && !at.After(now) {
		return false
	}
	if t.seedLimitReached(now, t.effectiveSeedLimits()) != "" {
		return false
	}
	if !t.paused && t.state != StateError && t.presenceErr() != nil {
		return false
	}
	t.armWake(now)
	return true
}

// idle reports whether the torrent has nothing to do but wait, its
// storage's descriptors closed. It runs on the loop.
func (t *Torrent) idle(now time.Time) bool {
	return t.quiet(now) && (t.store == nil || t.handlesReleased)
}

// quiet is idle but for the storage's descriptors (maybeReleaseHandles
// closes them before the torrent parks).
func (t *Torrent) quiet(now time.Time) bool {
	if now.Sub(t.activeAt) < parkAfter {
		return false
	}
	switch {
	case t.paused, t.state == StateError:
	case t.state == StateSeeding && t.checked:
	default:
		return false
	}
	return len(t.peers) == 0 && t.dialing == 0 && !t.moving && t.pendingWrites == 0 &&
		len(t.loading) == 0 && len(t.sel.streams.waiters) == 0 && t.md == nil
}

// tryPark parks the torrent if it is idle and no message is on its way;
// it runs on the loop, which must return at once when it reports true.
func (t *Torrent) tryPark(now time.Time) bool {
	if !t.idle(now) {
		return false
	}
	t.parkMu.Lock()
	busy := t.senders > 0 || t.diskInflight.Load() > 0 ||
		len(t.peerEvC)+len(t.connC)+len(t.dialC)+len(t.addrsC)+len(t.diskC)+len(t.cmdC)+len(t.wakeC) > 0
	if busy {
		t.parkMu.Unlock()
		return false
	}
	// The timer is armed before parked is set: once parkMu is released,
	// a sender may start the next loop, which owns wakeTimer too. A timer
	// firing meanwhile waits in enter for parkMu.
	t.armWake(now)
	t.parked = true
	t.parkMu.Unlock()
	return true
}

// armWake sets wakeTimer to the parked torrent's next wake (wakeAfter),
// or stops it when the torrent has nothing to wake for. It runs on the
// loop or with a parked torrent's state owned (ownParked).
func (t *Torrent) armWake(now time.Time) {
	d, ok := t.wakeAfter(now)
	switch {
	case !ok:
		if t.wakeTimer != nil {
			t.wakeTimer.Stop()
		}
	case t.wakeTimer == nil:
		t.wakeTimer = time.AfterFunc(d, t.wake)
	default:
		t.wakeTimer.Reset(d)
	}
}

// wakeAfter is how long the torrent may stay parked, and false when it
// need not wake at all (paused, or stopped by an error: its tick would do
// nothing). It is the least of parkWake (spread by up to parkSpread), the
// time until its seeding time limit is reached and the time until a known
// peer may be dialled (parkRetry when one may be dialled already).
func (t *Torrent) wakeAfter(now time.Time) (time.Duration, bool) {
	if t.paused || t.state == StateError {
		return 0, false
	}
	d := parkWake - time.Duration(rand.Int64N(int64(parkSpread)))
	if t.state == StateSeeding && !t.seedingSince.IsZero() {
		if l := t.effectiveSeedLimits(); l.SeedTimeLimit > 0 {
			d = min(d, max(time.Second, t.seedingSince.Add(l.SeedTimeLimit).Sub(now)+10*time.Millisecond))
		}
	}
	if at, ok := t.nextDial(); ok {
		if at.After(now) {
			d = min(d, at.Sub(now)+10*time.Millisecond)
		} else {
			d = min(d, parkRetry)
		}
	}
	return d, true
}
