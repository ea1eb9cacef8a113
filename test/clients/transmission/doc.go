// Package transmission tests gobit's Transmission RPC with the clients
// people use: transmission-remote (Debian transmission-cli), the Python
// transmissionrpc library (python3-transmissionrpc) and the npm library
// @ctrl/transmission (run "npm ci" here). The same checks run against the
// real transmission-daemon, so they test what the clients expect rather
// than what gobit happens to do.
package transmission
