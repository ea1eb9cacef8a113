// Package creds holds the daemon's API credentials and checks them in
// constant time. The compatibility APIs (Transmission RPC, qBittorrent Web
// API) authenticate with a user name and password; gobit's own API with a
// token. Credentials lets each accept what its clients send.
package creds

import (
	"crypto/sha256"
	"crypto/subtle"
)

// Credentials are the secrets a client may present.
type Credentials struct {
	// User and Password are --api-user and --api-password. A Password set
	// alone accepts any user name.
	User, Password string
	// Token is --api-token. It is also accepted as a password (with any
	// user name), so a client that only speaks Basic auth works with a
	// token-only daemon.
	Token string
}

// Required reports whether any secret is configured. When none is, every
// request is accepted (the Host/Origin guard still applies).
func (c Credentials) Required() bool {
	return c.Password != "" || c.Token != ""
}

// Check reports whether user and password are acceptable: the configured
// password (and, when one is set, the configured user), or the token as the
// password. With nothing configured every pair is accepted.
func (c Credentials) Check(user, password string) bool {
	if !c.Required() {
		return true
	}
	ok := false
	if c.Password != "" {
		userOK := c.User == "" || equal(user, c.User)
		ok = equal(password, c.Password) && userOK
	}
	if c.Token != "" && equal(password, c.Token) {
		ok = true
	}
	return ok
}

// CheckToken reports whether tok is the configured token or password.
func (c Credentials) CheckToken(tok string) bool {
	if !c.Required() {
		return true
	}
	return (c.Token != "" && equal(tok, c.Token)) || (c.Password != "" && equal(tok, c.Password))
}

// equal compares two secrets in time independent of their contents and
// lengths: both are hashed first.
func equal(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}
