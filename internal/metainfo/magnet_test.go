package metainfo

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const testHex = "e628a3ae1bddfd64556c10ac054594c3c0dc4a16"

func mustHash(t testing.TB, s string) Hash {
	t.Helper()
	h, err := ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParseMagnet(t *testing.T) {
	h := mustHash(t, testHex)
	tests := []struct {
		name string
		uri  string
		want Magnet
	}{
		{"bare hex", "magnet:?xt=urn:btih:" + testHex, Magnet{InfoHash: h}},
		{"upper hex and scheme", "MAGNET:?XT=URN:BTIH:" + strings.ToUpper(testHex), Magnet{InfoHash: h}},
		{"base32", "magnet:?xt=urn:btih:4YUKHLQ33X6WIVLMCCWAKRMUYPANYSQW", Magnet{InfoHash: h}},
		{"full", "magnet:?xt=urn:btih:" + testHex +
			"&dn=My+File%20%C3%A9&tr=http%3A%2F%2F127.0.0.1%3A30000%2Fannounce&tr=udp://127.0.0.1:30000" +
			"&tr=http%3A%2F%2F127.0.0.1%3A30000%2Fannounce&ws=http://127.0.0.1/seed&x.pe=127.0.0.1:6881&x.pe=[::1]:06882" +
			"&x.pe=example.com:80&xl=5000000&so=0,2,4-6&unknown=zzz&kt=a+b",
			Magnet{InfoHash: h, Name: "My File é", Trackers: []string{"http://127.0.0.1:30000/announce", "udp://127.0.0.1:30000"},
				WebSeeds: []string{"http://127.0.0.1/seed"}, Peers: []string{"127.0.0.1:6881", "[::1]:6882", "example.com:80"},
				Length: 5000000, SelectOnly: []int{0, 2, 4, 5, 6}}},
		{"numbered params", "magnet:?xt.1=urn:btih:" + testHex + "&tr.1=udp://a:1&tr.2=udp://b:2", Magnet{InfoHash: h, Trackers: []string{"udp://a:1", "udp://b:2"}}},
		{"hybrid v1+v2", "magnet:?xt=urn:btmh:1220" + strings.Repeat("ab", 32) + "&xt=urn:btih:" + testHex, Magnet{InfoHash: h}},
		{"same hash twice", "magnet:?xt=urn:btih:" + testHex + "&xt=urn:btih:" + strings.ToUpper(testHex), Magnet{InfoHash: h}},
		{"empty tr and params ignored", "magnet:?&xt=urn:btih:" + testHex + "&tr=&&dn=", Magnet{InfoHash: h}},
		{"so overlapping and unsorted", "magnet:?xt=urn:btih:" + testHex + "&so=5,1-3,2,,0", Magnet{InfoHash: h, SelectOnly: []int{0, 1, 2, 3, 5}}},
		{"fragment dropped", "magnet:?xt=urn:btih:" + testHex + "#frag", Magnet{InfoHash: h}},
		{"no question mark", "magnet:xt=urn:btih:" + testHex, Magnet{InfoHash: h}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMagnet(tc.uri)
			if err != nil {
				t.Fatalf("ParseMagnet: %v", err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", *got, tc.want)
			}
			again, err := ParseMagnet(got.String())
			if err != nil {
				t.Fatalf("ParseMagnet(String() = %q): %v", got.String(), err)
			}
			if !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip through %q:\ngot  %+v\nwant %+v", got.String(), again, got)
			}
		})
	}
}

func TestParseMagnetErrors(t *testing.T) {
	tests := []struct {
		uri, want string
	}{
		{"http://example.com/?xt=urn:btih:" + testHex, "not a magnet URI"},
		{"magnet", "not a magnet URI"},
		{"magnet:?dn=x", "magnet: missing xt"},
		{"magnet:?xt=urn:sha1:abc", "magnet: missing xt"},
		{"magnet:?xt=urn:btih:zz", `magnet: xt "urn:btih:zz": info hash must be 40 hex or 32 base32 characters`},
		{"magnet:?xt=urn:btmh:1220" + strings.Repeat("ab", 32), "only urn:btmh"},
		{"magnet:?xt=urn:btih:" + testHex + "&xt=urn:btih:" + strings.Repeat("0", 40), "two different"},
		{"magnet:?xt=urn:btih:" + testHex + "&xl=abc", `magnet: xl "abc"`},
		{"magnet:?xt=urn:btih:" + testHex + "&xl=-1", `magnet: xl "-1"`},
		{"magnet:?xt=urn:btih:" + testHex + "&x.pe=127.0.0.1", `magnet: x.pe "127.0.0.1": want host:port`},
		{"magnet:?xt=urn:btih:" + testHex + "&x.pe=127.0.0.1:0", "port must be 1-65535"},
		{"magnet:?xt=urn:btih:" + testHex + "&x.pe=127.0.0.1:70000", "port must be 1-65535"},
		{"magnet:?xt=urn:btih:" + testHex + "&x.pe=bad%20host:80", "host must be"},
		{"magnet:?xt=urn:btih:" + testHex + "&so=3-1", "reversed"},
		{"magnet:?xt=urn:btih:" + testHex + "&so=a", `file index "a"`},
		{"magnet:?xt=urn:btih:" + testHex + "&so=0-99999999", "file index"},
		{"magnet:?xt=urn:btih:" + testHex + "&dn=%zz", "bad escape"},
		{"magnet:?xt=urn:btih:" + testHex + "&tr=" + strings.Repeat("a", MaxMagnetLength), "at most"},
	}
	for _, tc := range tests {
		_, err := ParseMagnet(tc.uri)
		if err == nil {
			t.Errorf("ParseMagnet(%q) succeeded, want error %q", truncate(tc.uri, 80), tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalidMagnet) {
			t.Errorf("ParseMagnet(%q) error %q, want %q", truncate(tc.uri, 80), err, tc.want)
		}
	}
}

func TestMagnetString(t *testing.T) {
	m := Magnet{InfoHash: mustHash(t, testHex), Name: "a b&c", Trackers: []string{"udp://x:1/?a=b&c"}, Length: 42, SelectOnly: []int{0, 1, 2, 5, 7, 8}}
	want := "magnet:?xt=urn:btih:" + testHex + "&dn=a+b%26c&xl=42&tr=udp%3A%2F%2Fx%3A1%2F%3Fa%3Db%26c&so=0-2,5,7-8"
	if got := m.String(); got != want {
		t.Fatalf("String() =\n%s\nwant\n%s", got, want)
	}
}
