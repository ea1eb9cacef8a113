// Package blocklist parses IP blocklists and answers whether an address is
// on one.
//
// Three line formats are understood, mixed freely within one file:
//
//   - eMule DAT: "start - end , level , description" (level above 127 means
//     the range is allowed, as in eMule, and the line is skipped);
//   - PeerGuardian P2P: "description:start-end";
//   - CIDR: "1.2.3.0/24", "2001:db8::/32", a single address, or a bare
//     "start - end" range.
//
// Addresses may be IPv4 (leading zeros allowed, as DAT files write them)
// or IPv6. Blank lines and lines starting with '#' or "//" are comments.
// A gzip-compressed stream is recognised by its magic bytes.
//
// Input is hostile: a line longer than MaxLineLen is skipped, more than
// MaxRanges ranges or MaxInputSize bytes is an error, and a malformed line
// is skipped and counted (the first few with their line numbers in
// Stats.Errors). A List is immutable: its ranges sorted and merged, so
// Contains is one binary search over the address family's slice.
//
// The package does no I/O of its own beyond the reader it is given, and
// Load (a file or an http(s) URL).
package blocklist
