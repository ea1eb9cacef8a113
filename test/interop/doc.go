// Package interop tests gobit against real BitTorrent software on loopback:
// libtorrent (python3-libtorrent), Transmission (transmission-daemon 3.x)
// and aria2, meeting through a real opentracker.
//
// The package holds only tests. Every external program is started by a test,
// talks only to 127.0.0.1 on ports that were free a moment before, and is
// killed in t.Cleanup; its output is printed when the test fails. The
// programs are required when CI=true and the tests are skipped elsewhere
// when one is missing (internal/testutil). The whole package is skipped in
// -short mode.
//
// The helper scripts the tests run live in testdata, so the project carries
// everything it needs.
package interop
