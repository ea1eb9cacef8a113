package tracker

import (
	"net/netip"
	"testing"
)

// checkPeers fails if a parser let through an address no peer can have.
func checkPeers(t *testing.T, peers []netip.AddrPort) {
	t.Helper()
	for _, p := range peers {
		if p.Port() == 0 || !p.Addr().IsValid() || p.Addr().IsUnspecified() || p.Addr().Is4In6() {
			t.Fatalf("parser returned bad peer %v", p)
		}
	}
}

func FuzzParseHTTPResponse(f *testing.F) {
	for _, s := range []string{
		"d8:completei5e10:incompletei7e8:intervali1800e12:min intervali60e5:peers6:\x7f\x00\x00\x01\x1a\xe1e",
		"d8:intervali900e5:peersld2:ip9:127.0.0.14:porti6881eeee",
		"d6:peers618:\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1a\xe1e",
		"d14:failure reason12:unregisterede",
		"d15:warning message4:slow10:tracker id3:abce",
		"d5:filesd20:aaaaaaaaaaaaaaaaaaaad8:completei3e10:downloadedi9e10:incompletei4eeee",
		"d5:peers5:abcdee", "li1ee", "", "d",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := parseHTTPAnnounce(body)
		if err == nil {
			checkPeers(t, resp.Peers)
			if resp.Interval < 0 || resp.MinInterval < 0 || resp.Seeders < 0 || resp.Leechers < 0 {
				t.Fatalf("negative values in %+v", resp)
			}
		} else if resp != nil {
			t.Fatal("response and error together")
		}
		if res, err := parseHTTPScrape(body); err == nil {
			for _, r := range res {
				if r.Seeders < 0 || r.Completed < 0 || r.Leechers < 0 {
					t.Fatalf("negative scrape counts %+v", r)
				}
			}
		}
	})
}

func FuzzParseUDPPacket(f *testing.F) {
	f.Add(pkt(actionConnect, 1, []byte{1, 2, 3, 4, 5, 6, 7, 8}), false)
	f.Add(pkt(actionAnnounce, 2, u32(1800, 1, 2), []byte{127, 0, 0, 1, 0x1a, 0xe1}), false)
	f.Add(pkt(actionAnnounce, 2, u32(60, 0, 0), make([]byte, 16), []byte{0, 1}), true)
	f.Add(pkt(actionScrape, 3, u32(1, 2, 3, 4, 5, 6)), false)
	f.Add(pkt(actionError, 4, []byte("nope")), false)
	f.Add([]byte{0, 0, 0}, true)
	hashes := [][20]byte{{1}, {2}}
	f.Fuzz(func(t *testing.T, p []byte, v6 bool) {
		action, _, body, err := parseUDPHeader(p)
		if err != nil {
			return
		}
		for _, want := range []uint32{actionConnect, actionAnnounce, actionScrape} {
			if err := checkUDPAction(action, body, want); err != nil {
				continue
			}
			switch want {
			case actionConnect:
				parseUDPConnect(body)
			case actionAnnounce:
				if resp, err := parseUDPAnnounce(body, v6); err == nil {
					checkPeers(t, resp.Peers)
				}
			case actionScrape:
				if res, err := parseUDPScrape(body, hashes); err == nil && len(res) != 2 {
					t.Fatalf("scrape of 2 hashes returned %d results", len(res))
				}
			}
		}
	})
}
