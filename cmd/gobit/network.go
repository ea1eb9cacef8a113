package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/gobit/gobit/internal/session"
)

// networkOptions are the proxy, interface binding and blocklist flags
// shared by serve and download.
type networkOptions struct {
	proxy, bindInterface, blocklist string
}

func (o *networkOptions) register(f *pflag.FlagSet) {
	f.StringVar(&o.proxy, "proxy", "", "SOCKS5 proxy for outgoing peer connections, tracker requests, uTP and the DHT: socks5://[user:password@]host:port (UDP through UDP ASSOCIATE: while the proxy refuses it uTP and the DHT stop, never direct; LSD is turned off; incoming peers are not accepted through it)")
	f.StringVar(&o.bindInterface, "bind-interface", "", "bind every socket (peers, trackers, DHT, uTP, LSD) to this network interface name or IP address; if it goes away, traffic stops instead of leaving another way, and resumes when it is back")
	f.StringVar(&o.blocklist, "blocklist", "", "IP blocklist file or http(s) URL (eMule DAT, PeerGuardian P2P or CIDR lines, gzip accepted); a file is reloaded when it changes, both on SIGHUP")
}

func (o *networkOptions) apply(cfg *session.Config) {
	cfg.Proxy = o.proxy
	cfg.BindInterface = o.bindInterface
	cfg.Blocklist = o.blocklist
}

// blocklistReloader is the part of the session SIGHUP reloads the
// blocklist through.
type blocklistReloader interface {
	ReloadBlocklist(ctx context.Context) (int, error)
}

// reloadBlocklist reloads sess's blocklist when it has one, and says how
// it went ("" when there is none).
func reloadBlocklist(sess any) string {
	br, ok := sess.(blocklistReloader)
	if !ok {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	n, err := br.ReloadBlocklist(ctx)
	switch {
	case errors.Is(err, session.ErrNoBlocklist):
		return ""
	case err != nil:
		return "blocklist not reloaded: " + err.Error()
	}
	return fmt.Sprintf("blocklist reloaded: %d ranges", n)
}
