package tracker

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEncodeUDP(t *testing.T) {
	if got, want := hex.EncodeToString(encodeConnect(0x01020304)), "0000041727101980"+"00000000"+"01020304"; got != want {
		t.Errorf("connect = %s, want %s", got, want)
	}
	req := AnnounceRequest{
		InfoHash: [20]byte{0: 0xaa, 19: 0xab}, PeerID: [20]byte{0: 0xbb, 19: 0xbc}, Port: 0x1ae1,
		Uploaded: 3, Downloaded: 1, Left: 2, Event: EventStopped, NumWant: -1, Key: 0xcafebabe,
	}
	got := encodeAnnounce(0x1122334455667788, 0x99, req)
	want := "1122334455667788" + "00000001" + "00000099" +
		"aa" + strings.Repeat("00", 18) + "ab" + "bb" + strings.Repeat("00", 18) + "bc" +
		"0000000000000001" + "0000000000000002" + "0000000000000003" +
		"00000003" + "00000000" + "cafebabe" + "ffffffff" + "1ae1"
	if hex.EncodeToString(got) != want || len(got) != 98 {
		t.Errorf("announce =\n%x\nwant\n%s", got, want)
	}
	req.NumWant = 7
	if nw := binary.BigEndian.Uint32(encodeAnnounce(0, 0, req)[92:]); nw != 7 {
		t.Errorf("numwant = %d, want 7", nw)
	}
	sc := encodeScrape(5, 6, [][20]byte{{1}, {2}})
	if len(sc) != 56 || binary.BigEndian.Uint32(sc[8:]) != actionScrape || sc[16] != 1 || sc[36] != 2 {
		t.Errorf("scrape = %x", sc)
	}
}

func pkt(action, tid uint32, body ...[]byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, action)
	b = binary.BigEndian.AppendUint32(b, tid)
	for _, x := range body {
		b = append(b, x...)
	}
	return b
}

func u32(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

func TestParseUDPAnnounce(t *testing.T) {
	v6peer := append(netip.MustParseAddr("2001:db8::7").AsSlice(), 0x1a, 0xe1)
	mapped := append(netip.MustParseAddr("::ffff:10.1.2.3").AsSlice(), 0, 80)
	tests := []struct {
		name  string
		body  []byte
		v6    bool
		want  *AnnounceResponse
		isErr bool
	}{
		{"v4 peers", slices.Concat(u32(1800, 4, 9), []byte{127, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 1, 0, 0}), false,
			&AnnounceResponse{Interval: 30 * time.Minute, Leechers: 4, Seeders: 9, Peers: []netip.AddrPort{ap("127.0.0.1:6881")}}, false},
		{"v6 peers", slices.Concat(u32(60, 0, 0), v6peer, mapped), true,
			&AnnounceResponse{Interval: time.Minute, Peers: []netip.AddrPort{ap("[2001:db8::7]:6881"), ap("10.1.2.3:80")}}, false},
		{"no peers", u32(0xffffffff, 0xffffffff, 1), false,
			&AnnounceResponse{Interval: 7 * 24 * time.Hour, Leechers: 1<<31 - 1, Seeders: 1, Peers: []netip.AddrPort{}}, false},
		{"short", u32(1, 2), false, nil, true},
		{"partial v4 entry", slices.Concat(u32(1, 2, 3), []byte{1, 2, 3}), false, nil, true},
		{"v4 entries to a v6 tracker", slices.Concat(u32(1, 2, 3), []byte{1, 2, 3, 4, 5, 6}), true, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseUDPAnnounce(tt.body, tt.v6)
			if tt.isErr {
				if !errors.Is(err, ErrMalformedResponse) {
					t.Fatalf("err = %v, want ErrMalformedResponse", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Peers == nil {
				got.Peers = []netip.AddrPort{}
			}
			if !equalResponse(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseUDPHeaderAndActions(t *testing.T) {
	if _, _, _, err := parseUDPHeader([]byte{0, 0, 0, 1, 0, 0, 0}); !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("7-byte packet: err = %v", err)
	}
	action, tid, body, err := parseUDPHeader(pkt(3, 77, []byte("go away\x00")))
	if err != nil || action != 3 || tid != 77 || string(body) != "go away\x00" {
		t.Fatalf("header = %d %d %q %v", action, tid, body, err)
	}
	var fe *FailureError
	if err := checkUDPAction(action, body, actionAnnounce); !errors.As(err, &fe) || fe.Reason != "go away" {
		t.Errorf("error action: %v", err)
	}
	if err := checkUDPAction(actionScrape, nil, actionAnnounce); !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("wrong action: %v", err)
	}
	if err := checkUDPAction(actionAnnounce, nil, actionAnnounce); err != nil {
		t.Errorf("right action: %v", err)
	}
	long := bytes.Repeat([]byte{0xff, '\n'}, 1000)
	if err := checkUDPAction(actionError, long, actionConnect); !errors.As(err, &fe) || len(fe.Reason) > 3*maxErrorMessage || strings.ContainsRune(fe.Reason, '\n') {
		t.Errorf("long hostile error text not sanitized: %q", fe.Reason)
	}
	if _, err := parseUDPConnect([]byte{1, 2, 3}); !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("short connect: %v", err)
	}
	if id, err := parseUDPConnect([]byte{1, 2, 3, 4, 5, 6, 7, 8}); err != nil || id != 0x0102030405060708 {
		t.Errorf("connect id = %x, %v", id, err)
	}
}

func TestParseUDPScrape(t *testing.T) {
	hashes := [][20]byte{{1}, {2}}
	got, err := parseUDPScrape(u32(5, 6, 7, 8, 9, 10), hashes)
	if err != nil {
		t.Fatal(err)
	}
	if got[hashes[0]] != (ScrapeResult{5, 6, 7}) || got[hashes[1]] != (ScrapeResult{8, 9, 10}) {
		t.Errorf("scrape = %v", got)
	}
	if _, err := parseUDPScrape(u32(5, 6, 7, 8), hashes); !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("short scrape: err = %v", err)
	}
}
