package torrent

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/gobit/gobit/internal/bitfield"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/picker"
	"github.com/gobit/gobit/internal/storage"
	"github.com/gobit/gobit/internal/tracker"
)

// run starts the torrent on its first loop.
func (t *Torrent) run() {
	t.activeAt = time.Now()
	if t.cfg.MetaInfo != nil {
		t.setInfo(&t.cfg.MetaInfo.Info, t.cfg.MetaInfo.InfoBytes)
	}
	for _, a := range t.cfg.Peers {
		t.addAddr(a, SourceUser)
	}
	if !t.paused {
		t.startAnnouncer()
	}
	t.connectPeers()
	t.loop()
}

// loop is the event loop; while it runs it owns all loop-owned fields. It
// returns when the torrent stops, or parks (park.go).
func (t *Torrent) loop() {
	if t.wakeTimer != nil {
		t.wakeTimer.Stop()
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		active := true
		select {
		case ev := <-t.peerEvC:
			t.handlePeerEvent(ev)
		case nc := <-t.connC:
			t.handleNewConn(nc)
		case r := <-t.dialC:
			// Neither a failed dial nor addresses keep the torrent
			// awake (parkAfter): a parked seed woken to dial a peer
			// that is not there parks again as soon as the dial fails.
			t.handleDialResult(r)
			active = false
		case pa := <-t.addrsC:
			for _, a := range pa.addrs {
				t.addAddr(a, pa.src)
			}
			t.connectPeers()
			active = false
		case r := <-t.diskC:
			t.handleDiskResult(r)
		case fn := <-t.cmdC:
			fn()
		case <-t.wakeC:
			t.handleTick()
			active = false
		case <-tick.C:
			t.handleTick()
			active = false
		case <-t.stopC:
			close(t.doneC)
			return
		}
		now := time.Now()
		if active {
			t.activeAt = now
		} else if t.tryPark(now) {
			return
		}
	}
}

func (t *Torrent) handleTick() {
	now := time.Now()
	var bdp, fastest int64
	for _, p := range t.peers {
		// Uploads count when the writer has sent them, not when queued.
		t.addUploaded(p)
		p.tick(now)
		bdp += p.bdp()
		fastest = max(fastest, p.rateDown.recent())
	}
	t.bdp, t.fastest = bdp, fastest
	// Peer counters are cumulative per connection; the torrent totals are
	// kept in t.downloaded/t.uploaded by the block handlers, so rates come
	// from those.
	d, u := t.downloaded.Load(), t.uploaded.Load()
	t.rateDown.update(d - t.lastDown)
	t.rateUp.update(u - t.lastUp)
	t.lastDown, t.lastUp = d, u
	if !t.paused && t.state != StateError {
		t.checkSnubbed(now)
		t.metadataTick(now)
		t.unchokeTick(now)
		t.checkSeedLimits(now)
		t.pexTick(now)
		t.checkPresent()
		t.hungryReannounce(now)
		t.connectPeers()
		for _, p := range t.peers {
			t.fillRequests(p)
		}
	}
	t.maybeReleaseHandles(now)
	t.publish()
}

// publish stores a fresh Stats snapshot, and closes the StateChanged
// channel when the state differs from the last snapshot's.
func (t *Torrent) publish() {
	s := &Stats{
		InfoHash:      t.hash,
		Name:          t.name,
		State:         t.state,
		Error:         t.errMsg,
		Downloaded:    t.downloaded.Load(),
		Uploaded:      t.uploaded.Load(),
		DownloadRate:  t.rateDown.shown(),
		UploadRate:    t.rateUp.shown(),
		Peers:         len(t.peers),
		SaveDir:       t.cfg.SaveDir,
		Root:          t.root,
		Ratio:         t.ratio(),
		SeedLimits:    t.seedLimits,
		Finished:      t.finished,
		UploadLimit:   t.upLimit.Limit(),
		DownloadLimit: t.downLimit.Limit(),
		UploadSlots:   t.choker.Slots(),
	}
	s.Sequential, s.FirstLastPieceFirst = t.sel.sequential, t.sel.firstLast
	if t.resuming && s.State == StateChecking {
		s.State = StateSeeding // confirming resume data is no check (setInfo)
	}
	if t.paused && t.state != StateError {
		s.State = StatePaused
	}
	switch s.State {
	case StatePaused, StateError:
		// Nothing flows; the smoothed rates would take a while to say so.
		s.DownloadRate, s.UploadRate = 0, 0
	case StateSeeding:
		s.DownloadRate = 0 // a complete torrent downloads nothing
	}
	if t.info != nil {
		s.HaveInfo = true
		s.TotalSize = t.info.TotalLength()
		s.PieceLength = t.info.PieceLength
		s.NumPieces = t.info.NumPieces()
		if t.have != nil {
			s.HavePieces = t.have.Count()
			s.Completed = t.completedBytes()
		}
		s.WantedSize, s.WantedCompleted = t.sel.wantedSize, t.sel.wantedHave
		if t.resuming {
			// Complete by the resume data being confirmed (setInfo).
			s.HavePieces, s.Completed = s.NumPieces, s.TotalSize
			s.WantedCompleted = s.WantedSize
		}
	}
	for _, p := range t.peers {
		if p.isSeed() {
			s.Seeds++
		}
		if p.amInterested && !p.peerChoking {
			s.Sending++
		}
		if p.peerInterested && !p.amChoking {
			s.Receiving++
		}
		s.PeerSources.add(p.source)
	}
	if prev := t.stats.Swap(s); prev == nil || prev.State != s.State {
		c := make(chan struct{})
		if old := t.stateC.Swap(&c); old != nil {
			close(*old)
		}
	}
}

func (t *Torrent) completedBytes() int64 {
	n := t.have.Count()
	if n == 0 {
		return 0
	}
	last := t.info.NumPieces() - 1
	b := int64(n) * t.info.PieceLength
	if t.have.Has(last) {
		b -= t.info.PieceLength - t.info.PieceSize(last)
	}
	return b
}

// fail stops the torrent with err. Once stopped, later errors (the other
// pieces that were being written when the disk failed, say) are only logged
// at debug level: the first error is the one shown and logged.
func (t *Torrent) fail(err error) {
	if t.state == StateError && t.errMsg != "" { // recheck and resume clear errMsg
		t.log.Debug("further error while stopped by an error", "err", err)
		return
	}
	t.log.Error("torrent stopped by error", "err", err)
	t.errMsg = err.Error()
	t.state = StateError
	t.stopAnnouncer()
	t.closeAllPeers()
	t.publish()
}

// partialBudget is the memory partial pieces may take (a soft limit: the
// picker finishes started pieces before starting new ones above it).
const partialBudget = 8 << 20

// setInfo installs the info dictionary (from the .torrent or from peers) and
// starts checking existing data.
func (t *Torrent) setInfo(info *metainfo.Info, infoBytes []byte) {
	t.info = info
	t.infoBytes = infoBytes
	t.name = info.Name
	t.md = nil
	if t.pieces != nil {
		t.dropPartial() // a recheck: what was in memory is gone with the old picker
	} else {
		t.pieces = make(map[int]*pieceBuf)
	}
	n := info.NumPieces()
	t.pk = picker.New(n, info.PieceLength, info.TotalLength(), nil)
	// Partial pieces live in memory: keep them to about partialBudget.
	t.pk.SetMaxPartial(int(max(8, partialBudget/info.PieceLength)))
	t.have = bitfield.New(n)
	t.haveGen.Add(1)
	t.applySelection()
	t.left.Store(info.TotalLength())
	st, err := storage.Open(t.cfg.SaveDir, t.layout(), t.cfg.Storage)
	if err != nil && len(t.cfg.FilePaths) > 0 {
		// Renamed paths the storage refuses (a damaged record): the
		// files are looked for at the torrent's own paths instead.
		t.log.Warn("ignoring the files' saved paths", "err", err)
		t.cfg.FilePaths = nil
		st, err = storage.Open(t.cfg.SaveDir, t.layout(), t.cfg.Storage)
	}
	if err != nil {
		t.fail(fmt.Errorf("open storage: %w", err))
		return
	}
	t.store = st
	t.setRoot()
	st.SetSkipped(t.sel.skipFiles)
	for _, p := range t.peers {
		if err := p.applyPendingHave(n); err != nil {
			p.conn.CloseWith(err)
			continue
		}
		if p.has != nil {
			t.pk.PeerBitfield(p.has)
		}
		// Peers connected during the metadata phase get our extension
		// handshake again, now with metadata_size.
		t.sendExtendedHandshake(p)
		t.sendAllowedFast(p)
	}
	t.state = StateChecking
	store := t.store
	resume := t.resumeBitfield()
	var stamps []storage.FileStamp
	if resume != nil {
		stamps = t.cfg.Resume.Stamps
	}
	t.cfg.Resume = nil // used once; a later recheck hashes everything
	if resume != nil && resume.Full() && len(stamps) > 0 {
		// A complete torrent whose files are unchanged needs no check:
		// it is shown seeding while the stamps are compared (a stat per
		// file), and checks only if they differ.
		t.resuming = true
		t.resumeStamps = stamps
		t.publish()
		t.postDisk(resumeJob(store, resume, stamps))
		return
	}
	t.publish()
	t.postDisk(checkJob(store, resume, stamps))
}

// handleResumeRejected starts the check that resume data could not spare:
// files changed since it was saved. Pieces in unchanged files are still
// trusted.
func (t *Torrent) handleResumeRejected() {
	if !t.resuming || t.store == nil {
		return
	}
	t.resuming = false
	t.log.Info("files changed since the resume data was saved; checking")
	var have *bitfield.Bitfield
	if t.have != nil {
		have = bitfield.New(t.have.Len())
		for i := range have.Len() {
			have.Set(i)
		}
	}
	stamps := t.resumeStamps
	t.resumeStamps = nil
	t.publish()
	t.postDisk(checkJob(t.store, have, stamps))
}

// handleSynced stops the torrent when flushing its files failed.
func (t *Torrent) handleSynced(err error) {
	t.fail(fmt.Errorf("sync: %w", err))
}

func (t *Torrent) handleChecked(bf *bitfield.Bitfield, err error) {
	if err != nil {
		t.fail(fmt.Errorf("check data: %w", err))
		return
	}
	t.resuming, t.resumeStamps = false, nil
	t.checked = true
	t.haveGen.Add(1)
	for i := 0; i < bf.Len(); i++ {
		if bf.Has(i) {
			t.markHave(i, false)
		}
	}
	t.log.Debug("data checked", "have", bf.Count(), "pieces", bf.Len())
	if t.cfg.OnChecked != nil {
		t.cfg.OnChecked(bf.Count(), bf.Len())
	}
	t.downloading = !t.wantComplete()
	t.initFileProgress()
	t.state = StateDownloading
	t.startAnnouncer()
	for _, p := range t.peers {
		// Tell peers what we have; they got no bitfield or HaveNone before.
		if bf.Full() && p.fast {
			p.send(msgHaveAll())
		} else {
			for i := 0; i < bf.Len(); i++ {
				if bf.Has(i) {
					p.send(msgHave(i))
				}
			}
		}
		t.recountInterest(p)
		t.updateInterest(p)
	}
	t.maybeComplete()
	t.publish()
}

// markHave records a verified piece.
func (t *Torrent) markHave(i int, announce bool) {
	if !t.have.Set(i) {
		return
	}
	t.haveGen.Add(1)
	t.pk.SetHave(i)
	t.noteHaveWanted(i)
	t.notifyPiece(i)
	t.left.Add(-t.info.PieceSize(i))
	for _, p := range t.peers {
		if p.has != nil && p.has.Has(i) {
			p.interesting--
		}
		if announce {
			p.send(msgHave(i))
		}
	}
}

// hungryReannounce asks the trackers again (within their min interval)
// while a torrent that needs peers has none to talk to.
func (t *Torrent) hungryReannounce(now time.Time) {
	if t.state == StateSeeding || len(t.peers) > 0 || t.dialing > 0 || now.Sub(t.lastHungry) < 30*time.Second {
		return
	}
	if a := t.announcer.Load(); a != nil && t.annRunning {
		t.lastHungry = now
		a.Reannounce()
	}
}

// checkPresent stops the torrent when its verified data vanished from the
// save directory (deleted or moved behind gobit's back).
func (t *Torrent) checkPresent() {
	if err := t.presenceErr(); err != nil {
		t.fail(err)
	}
}

// presenceErr is checkPresent's finding: the error that stops the torrent
// because its verified data vanished, or nil.
func (t *Torrent) presenceErr() error {
	if t.store == nil || t.have == nil || t.have.Empty() || t.moving || t.state == StateChecking {
		return nil
	}
	return t.store.CheckPresent(t.have)
}

// maybeComplete switches to seeding when every wanted piece is verified
// (every piece, unless files are skipped).
func (t *Torrent) maybeComplete() {
	if t.info == nil || !t.checked || !t.wantComplete() || t.state == StateSeeding {
		return
	}
	// Never report data as complete that is not on disk; with every file
	// skipped and nothing downloaded there is none to look for.
	if !t.have.Empty() {
		if err := t.store.CheckPresent(t.have); err != nil {
			t.fail(err)
			return
		}
	}
	wasDownloading := t.downloading // pieces were fetched in this run
	t.state = StateSeeding
	t.completeAt = time.Now()
	t.seedingSince = time.Now()
	if err := t.store.CreateEmptyFiles(); err != nil {
		t.fail(fmt.Errorf("create empty files: %w", err))
		return
	}
	store := t.store
	if !t.cfg.NoSync {
		t.postDisk(syncJob(store))
	}
	// Seeding only reads: give back the AIO context now rather than hold
	// it for as long as the torrent seeds. Retiring it takes the kernel
	// ~35 ms, which `gobit download` paid at exit; here it overlaps the
	// announces and the shutdown. Not a disk job: stopping the torrent
	// need not wait for it (the writes are all done, and closing the
	// storage meanwhile is safe).
	go store.ReleaseAsyncWriter()
	if wasDownloading {
		t.log.Info("download complete")
		if t.cfg.OnComplete != nil {
			t.cfg.OnComplete()
		}
		// With files skipped, left stays above 0: not a seeder.
		if a := t.announcer.Load(); a != nil && t.have.Full() {
			a.Completed()
		}
	}
	for _, p := range t.peers {
		t.updateInterest(p)
		if p.isSeed() {
			t.closeFellowSeed(p)
		}
	}
	t.publish() // wakes StateChanged waiters: `gobit download` ends now
}

// startAnnouncer starts announcing unless paused. A torrent whose info is
// known waits until its data is checked, so the first announce tells the
// tracker the truth about what is left (a complete torrent is a seeder);
// a magnet announces at once to find peers for its metadata.
func (t *Torrent) startAnnouncer() {
	if t.cfg.Tracker == nil || len(t.cfg.Trackers) == 0 || t.annRunning || t.paused || t.state == StateError {
		return
	}
	if t.info != nil && !t.checked {
		return
	}
	a := tracker.NewAnnouncer(tracker.AnnouncerConfig{
		Client:      t.cfg.Tracker,
		Tiers:       t.cfg.Trackers,
		InfoHash:    t.hash,
		PeerID:      t.cfg.PeerID,
		Port:        t.cfg.Port,
		NumWant:     50,
		MinInterval: t.cfg.AnnounceMinInterval,
		Stats: func() (int64, int64, int64) {
			left := t.left.Load()
			if left < 0 {
				left = 0 // unknown (magnet without metadata)
			}
			return t.uploaded.Load(), t.downloaded.Load(), left
		},
		OnPeers: func(addrs []netip.AddrPort) { t.AddPeers(SourceTracker, addrs) },
		Logger:  t.log,
		// A seed's first announce may wait behind other seeds' (spread).
		Background: t.info != nil && t.have != nil && t.have.Full(),
	})
	prev := t.annDone
	t.announcer.Store(a)
	t.annRunning = true
	t.annDone = nil
	if prev == nil {
		a.Start()
		return
	}
	select {
	case <-prev:
		a.Start()
	default:
		// The previous announcer's "stopped" must reach the trackers
		// before this one's "started", or they would forget us. Stop
		// before Start makes Start a no-op.
		go func() {
			<-prev
			a.Start()
		}()
	}
}

// stopAnnouncer stops the announcer; it sends "stopped" off the loop,
// bounded by its stopped timeout, and closes t.annDone when done.
func (t *Torrent) stopAnnouncer() {
	if !t.annRunning {
		return
	}
	t.annRunning = false
	t.annDone = t.announcer.Load().Stop()
}

func (t *Torrent) pause() {
	if t.paused {
		return
	}
	t.paused = true
	t.stopAnnouncer()
	t.closeAllPeers()
	// Start from nothing when resumed, not from the rate before the pause.
	t.rateDown, t.rateUp = rate{}, rate{}
	t.publish()
}

func (t *Torrent) resume() {
	if t.state == StateError {
		// Retry from scratch: re-check the data.
		t.paused = false
		if t.info != nil {
			t.recheck(nil)
		} else {
			t.errMsg = ""
			t.state = StateMetadata
			t.startAnnouncer()
		}
		t.publish()
		return
	}
	if !t.paused {
		return
	}
	t.paused = false
	t.finished = false
	if t.state == StateSeeding {
		t.seedingSince = time.Now()
	}
	for _, a := range t.addrs {
		a.failures, a.nextTry = 0, time.Time{}
	}
	t.startAnnouncer()
	t.connectPeers()
	t.publish()
}

// stoppedWait bounds how long closing a torrent waits for its "stopped"
// announces, a little over tracker.DefaultStoppedTimeout.
const stoppedWait = tracker.DefaultStoppedTimeout + 300*time.Millisecond

// shutdown runs on the loop when the torrent is closed.
func (t *Torrent) shutdown() { waitStopped(t.stopAll()) }

// stopAll pauses the torrent for good: it stops the announcer (which sends
// the "stopped" announces) and closes every peer. It returns what is done
// when the "stopped" announces are over, or nil. It runs on the loop (or
// with a parked torrent's state owned, ownParked).
func (t *Torrent) stopAll() <-chan struct{} {
	t.paused = true
	t.stopAnnouncer()
	t.closeAllPeers()
	return t.annDone
}

// waitStopped gives the "stopped" announces a moment; the announcer bounds
// them (tracker.DefaultStoppedTimeout).
func waitStopped(done <-chan struct{}) {
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-time.After(stoppedWait):
	}
}
