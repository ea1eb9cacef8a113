package main

import (
	"errors"
	"testing"

	"github.com/spf13/pflag"

	"github.com/gobit/gobit/internal/peer"
	"github.com/gobit/gobit/internal/session"
)

func TestEncryptionFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want peer.Encryption
		bad  bool
	}{
		{nil, peer.EncryptionPrefer, false},
		{[]string{"--encryption", "require"}, peer.EncryptionRequire, false},
		{[]string{"--encryption=disable"}, peer.EncryptionDisable, false},
		{[]string{"--encryption", "forced"}, 0, true},
	} {
		var o encryptionOptions
		f := pflag.NewFlagSet("t", pflag.ContinueOnError)
		o.register(f)
		if err := f.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		cfg := session.Config{Encryption: peer.EncryptionDisable}
		err := o.apply(&cfg)
		var ue *usageError
		switch {
		case tc.bad && !errors.As(err, &ue):
			t.Errorf("%q: error %v, want a usage error", tc.args, err)
		case !tc.bad && (err != nil || cfg.Encryption != tc.want):
			t.Errorf("%q: %v, %v; want %v", tc.args, cfg.Encryption, err, tc.want)
		}
	}
}
