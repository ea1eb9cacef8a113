package tracker

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// maxCountedHosts bounds the hosts AnnounceCounts tells apart; announces
// to further hosts are counted under OtherHosts, so a flood of torrents
// naming random trackers cannot grow the table.
const maxCountedHosts = 256

// maxHostLen is the longest host name counted (a DNS name's limit);
// longer ones are cut.
const maxHostLen = 253

// OtherHosts is the host name under which announces to hosts past
// maxCountedHosts are counted.
const OtherHosts = "other"

// HostCount is the announces sent to one tracker host and how many failed.
type HostCount struct {
	Host      string
	Announces int64
	Errors    int64
}

// hostCounts counts announces by tracker host.
type hostCounts struct {
	mu sync.Mutex
	m  map[string]*HostCount
}

// add counts one announce to u's host, and err unless it is the caller's
// cancellation (a torrent stopping or removed), which says nothing about
// the tracker.
func (h *hostCounts) add(ctx context.Context, u *url.URL, err error) {
	host := strings.ToLower(u.Hostname())
	if len(host) > maxHostLen {
		host = host[:maxHostLen]
	}
	host = strings.ToValidUTF8(host, "?")
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = make(map[string]*HostCount)
	}
	c := h.m[host]
	if c == nil {
		if len(h.m) >= maxCountedHosts {
			host = OtherHosts
		}
		if c = h.m[host]; c == nil {
			c = &HostCount{Host: host}
			h.m[host] = c
		}
	}
	c.Announces++
	if err != nil && !errors.Is(ctx.Err(), context.Canceled) {
		c.Errors++
	}
}

// AnnounceCounts returns the announces sent since the Client was made and
// how many failed, by tracker host (lower case, without port), sorted by
// host. Announces cancelled by their caller count as sent, not failed.
func (c *Client) AnnounceCounts() []HostCount {
	c.counts.mu.Lock()
	out := make([]HostCount, 0, len(c.counts.m))
	for _, v := range c.counts.m {
		out = append(out, *v)
	}
	c.counts.mu.Unlock()
	slices.SortFunc(out, func(a, b HostCount) int { return strings.Compare(a.Host, b.Host) })
	return out
}
