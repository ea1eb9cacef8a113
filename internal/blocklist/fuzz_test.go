package blocklist

import (
	"bytes"
	"net/netip"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"1.2.3.4 - 1.2.3.5 , 0 , x",
		"desc:1.2.3.4-1.2.3.5",
		"a:b:2001:db8::-2001:db8::1",
		"10.0.0.0/8\n::/0\n",
		"\x1f\x8b\x08",
		"001.002.003.004-255.255.255.255,999,",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, st, err := Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		if st.Bad < 0 || l.Len() > st.Ranges {
			t.Fatalf("stats %+v, len %d", st, l.Len())
		}
		// Every merged range is ordered and its ends are contained.
		rs := l.Ranges()
		for i, r := range rs {
			if r.From.Compare(r.To) > 0 || !l.Contains(r.From) || !l.Contains(r.To) {
				t.Fatalf("range %v", r)
			}
			if i > 0 && rs[i-1].From.Is4() == r.From.Is4() && rs[i-1].To.Compare(r.From) >= 0 {
				t.Fatalf("overlap %v %v", rs[i-1], r)
			}
		}
		l.Contains(netip.MustParseAddr("1.2.3.4"))
	})
}
