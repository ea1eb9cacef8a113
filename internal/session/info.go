package session

import "path/filepath"

// DownloadDir returns the directory torrents are saved in when no other is
// asked for (Config.DownloadDir), made absolute.
func (s *Session) DownloadDir() string {
	if abs, err := filepath.Abs(s.cfg.DownloadDir); err == nil {
		return abs
	}
	return s.cfg.DownloadDir
}

// PeerLimits returns the connection limits: over all torrents, and per
// torrent (Config.MaxConns and Config.MaxPeersPerTorrent after defaults).
func (s *Session) PeerLimits() (global, perTorrent int) {
	return s.cfg.MaxConns, s.cfg.MaxPeersPerTorrent
}

// Discovery reports which peer sources beside trackers are on: the DHT and
// local service discovery. PEX is always on for public torrents.
func (s *Session) Discovery() (dht, lsd bool) {
	return s.cfg.DHT, s.cfg.LSD
}

// Private reports whether a torrent is private (BEP 27); false while its
// metadata is unknown.
func (s *Session) Private(infoHash string) (bool, error) {
	e, err := s.lookup(infoHash)
	if err != nil {
		return false, err
	}
	return e.t.Private(), nil
}
