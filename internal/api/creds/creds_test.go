package creds

import "testing"

func TestCheck(t *testing.T) {
	cases := []struct {
		c          Credentials
		user, pass string
		want       bool
	}{
		{Credentials{}, "", "", true},
		{Credentials{}, "x", "y", true},
		{Credentials{User: "admin", Password: "pw"}, "admin", "pw", true},
		{Credentials{User: "admin", Password: "pw"}, "other", "pw", false},
		{Credentials{User: "admin", Password: "pw"}, "admin", "nope", false},
		{Credentials{Password: "pw"}, "anyone", "pw", true},
		{Credentials{Token: "tok"}, "anyone", "tok", true},
		{Credentials{Token: "tok"}, "anyone", "", false},
		{Credentials{User: "a", Password: "pw", Token: "tok"}, "b", "tok", true},
		{Credentials{User: "a", Password: "pw", Token: "tok"}, "b", "pw", false},
	}
	for i, tc := range cases {
		if got := tc.c.Check(tc.user, tc.pass); got != tc.want {
			t.Errorf("case %d: Check(%q, %q) = %v, want %v", i, tc.user, tc.pass, got, tc.want)
		}
	}
	c := Credentials{Password: "pw", Token: "tok"}
	if !c.CheckToken("tok") || !c.CheckToken("pw") || c.CheckToken("x") {
		t.Error("CheckToken")
	}
	if !(Credentials{}).CheckToken("") {
		t.Error("no secret: every token accepted")
	}
}
