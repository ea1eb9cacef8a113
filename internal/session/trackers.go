package session

// Trackers returns one torrent's trackers, as in Detail.Trackers, without
// waiting for its loop: cheap enough to call for every torrent of a big
// list (the Transmission RPC's torrent-get asks for them).
func (s *Session) Trackers(infoHash string) ([]TrackerStatus, error) {
	e, err := s.lookup(infoHash)
	if err != nil {
		return nil, err
	}
	out := []TrackerStatus{}
	for _, tr := range e.t.Trackers() {
		out = append(out, TrackerStatus{
			URL: tr.URL, Tier: tr.Tier, Status: tr.Status, Error: tr.Error,
			Peers: tr.Peers, Seeders: tr.Seeders, Leechers: tr.Leechers,
			LastTime: tr.LastAnnounce, NextTime: tr.NextAnnounce,
		})
	}
	return out, nil
}
