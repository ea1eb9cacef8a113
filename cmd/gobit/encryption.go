package main

import (
	"github.com/spf13/pflag"

	"github.com/gobit/gobit/internal/session"
)

// encryptionOptions is the message stream encryption flag shared by serve
// and download.
type encryptionOptions struct {
	policy string
}

func (o *encryptionOptions) register(f *pflag.FlagSet) {
	f.StringVar(&o.policy, "encryption", "prefer", "peer connection encryption (MSE/PE): prefer (encrypted handshake offering RC4, plain fallback; accept both), require (RC4 only, both ways) or disable (plain only)")
}

func (o *encryptionOptions) apply(cfg *session.Config) error {
	e, err := session.ParseEncryption(o.policy)
	if err != nil {
		return &usageError{err}
	}
	cfg.Encryption = e
	return nil
}
