package torrent

// AnnounceNow asks the torrent's trackers to announce again as soon as
// their minimum interval allows (a user's "reannounce"). It does nothing
// while no announcer runs: a paused torrent does not announce.
func (t *Torrent) AnnounceNow() {
	if a := t.announcer.Load(); a != nil {
		a.Reannounce()
	}
}
