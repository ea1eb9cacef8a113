package metainfo

import (
	"errors"
	"strings"
	"testing"
)

func TestParseHash(t *testing.T) {
	const hexLower = "e628a3ae1bddfd64556c10ac054594c3c0dc4a16"
	want := Hash{0xe6, 0x28, 0xa3, 0xae, 0x1b, 0xdd, 0xfd, 0x64, 0x55, 0x6c, 0x10, 0xac, 0x05, 0x45, 0x94, 0xc3, 0xc0, 0xdc, 0x4a, 0x16}
	tests := []struct {
		in      string
		want    Hash
		wantErr string
	}{
		{hexLower, want, ""},
		{strings.ToUpper(hexLower), want, ""},
		{"4YUKHLQ33X6WIVLMCCWAKRMUYPANYSQW", want, ""},
		{"4yukhlq33x6wivlmccwakrmuypanysqw", want, ""},
		{"", Hash{}, "must be 40 hex or 32 base32 characters, got 0"},
		{hexLower[:39], Hash{}, "got 39"},
		{"zz" + hexLower[2:], Hash{}, "not hexadecimal"},
		{"1YUKHLQ33X6WIVLMCCWAKRMUYPANYSQW", Hash{}, "not base32"},
	}
	for _, tc := range tests {
		got, err := ParseHash(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrInvalidHash) {
				t.Errorf("ParseHash(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseHash(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if want.String() != hexLower {
		t.Errorf("String() = %s", want.String())
	}
	if want.IsZero() || !(Hash{}).IsZero() {
		t.Errorf("IsZero wrong")
	}
	var h Hash
	if err := h.UnmarshalText([]byte(hexLower)); err != nil || h != want {
		t.Errorf("UnmarshalText = %v, %v", h, err)
	}
	if b, _ := want.MarshalText(); string(b) != hexLower {
		t.Errorf("MarshalText = %s", b)
	}
}
