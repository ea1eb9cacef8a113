package trackertest

import (
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestHTTPAnnounceAndScrape(t *testing.T) {
	tr := New(t)
	ih := "%FF" + strings.Repeat("a", 19)
	base := tr.HTTPURL() + "?info_hash=" + ih + "&peer_id=" + strings.Repeat("p", 20) + "&left=0&compact=1"
	if got := get(t, base+"&port=1000&event=started"); got != "d8:completei1e10:incompletei0e8:intervali1800e5:peers0:e" {
		t.Errorf("first announce = %q", got)
	}
	if got := get(t, base+"&port=1001"); got != "d8:completei2e10:incompletei0e8:intervali1800e5:peers6:\x7f\x00\x00\x01\x03\xe8e" {
		t.Errorf("second announce = %q", got)
	}
	if got := get(t, base+"&port=1002&numwant=0"); !strings.Contains(got, "5:peers0:") {
		t.Errorf("numwant=0 announce = %q", got)
	}
	if got := get(t, strings.Replace(tr.HTTPURL(), "announce", "scrape", 1)); !strings.Contains(got, "d8:completei3e10:downloadedi0e10:incompletei0ee") {
		t.Errorf("scrape = %q", got)
	}
	if got := get(t, tr.HTTPURL()+"?info_hash=short&port=1"); !strings.HasPrefix(got, "d14:failure reason") {
		t.Errorf("bad hash = %q", got)
	}
	if tr.Announces() != 3 || len(tr.Peers([20]byte([]byte("\xff"+strings.Repeat("a", 19))))) != 3 {
		t.Errorf("announces=%d", tr.Announces())
	}
}

func TestUDPBadConnectionID(t *testing.T) {
	tr := New(t)
	conn, err := net.Dial("udp", strings.TrimPrefix(tr.UDPURL(), "udp://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := make([]byte, 98)
	binary.BigEndian.PutUint64(req, 12345)
	binary.BigEndian.PutUint32(req[8:], actionAnnounce)
	binary.BigEndian.PutUint32(req[12:], 77)
	conn.Write(req)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if binary.BigEndian.Uint32(buf) != actionError || binary.BigEndian.Uint32(buf[4:]) != 77 || string(buf[8:n]) != "bad connection id" {
		t.Errorf("answer = %q", buf[:n])
	}
	if tr.Announces() != 0 || len(tr.Peers([20]byte{})) != 0 {
		t.Error("announce with a bad connection id was accepted")
	}
}
