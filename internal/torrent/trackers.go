package torrent

import "github.com/gobit/gobit/internal/tracker"

// Trackers returns the torrent's trackers as its announcer sees them (as
// Detail's Stats.Trackers), without a round trip through the loop: a list
// of thousands of torrents asks for it once per torrent.
func (t *Torrent) Trackers() []tracker.TrackerStatus { return t.trackerStatus() }
