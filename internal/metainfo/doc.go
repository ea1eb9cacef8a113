// Package metainfo reads and writes .torrent files (BEP 3, 12, 19, 27, 47)
// and magnet links (BEP 9, 53), computes v1 info hashes and maps a
// torrent's files to safe paths below a save directory.
//
// # State and concurrency
//
// The package has no mutable global state. Parse, ParseInfo, Load,
// ParseMagnet and Create return fresh values owned by the caller; a
// MetaInfo or Info is not modified by this package after it is returned,
// so it may be shared read-only between goroutines.
//
// # Invariants
//
// An Info returned by Parse, ParseInfo or Create has passed Validate:
//   - Name is non-empty; 0 < PieceLength <= MaxPieceLength (64 MiB; not
//     necessarily a power of two, since some creators use odd sizes);
//   - exactly one of Length (single file) and Files (non-empty list) is
//     used; file lengths are >= 0; 0 < TotalLength < MaxTotalLength (2^50)
//     (a torrent with no data is rejected); at most MaxFiles files;
//   - len(Pieces) == 20 * ceil(TotalLength / PieceLength);
//   - FileEntries returns one entry per file, whose Path satisfies
//     filepath.IsLocal, and no two non-padding entries collide: no two share
//     a path and no file's path is a directory of another (compared
//     case-insensitively on Windows and macOS).
//
// For a MetaInfo, InfoHash is the SHA-1 of InfoBytes, the info dictionary
// exactly as received (not re-encoded), so non-canonical torrents keep
// their identity.
//
// # Untrusted file paths
//
// Paths in a torrent come from strangers. Each component (the name too) is
// treated as follows:
//   - "." and ".." are rejected: Parse fails with ErrUnsafePath;
//   - empty components inside a path are dropped (as libtorrent does); a
//     path with no component left is rejected, and an empty name is
//     rejected;
//   - '/' and '\' inside a component (absolute paths, "a/b" in one
//     component) and control characters (NUL, C0, DEL, C1) are replaced
//     with '_'; invalid UTF-8 is replaced with U+FFFD;
//   - on Windows only, the characters <>:"|?* (drive letters, alternate
//     data streams) and a trailing dot or space are replaced with '_', and
//     reserved device names (CON, NUL, COM1, LPT1.txt, …) get a '_' prefix;
//   - a path longer than MaxPathLength bytes is rejected, as are torrents
//     whose paths add up to more than MaxTotalPathBytes;
//   - if two files map to the same path after this, or a file's path is a
//     directory of another file, the torrent is rejected with
//     ErrUnsafePath. BEP 47 padding files (attr contains 'p') are exempt:
//     they are never written.
//
// Repairs keep odd but harmless torrents usable, while anything that only
// makes sense as an attack ("..") fails loudly. Components longer than the
// file system allows (255 bytes on most) are not shortened: creating such
// a file fails later in storage with a clear error.
//
// Unicode normalization (macOS stores names in NFD) is not applied, so
// two names that differ only in normalization are not detected as a
// collision. BEP 47 symbolic links (attr 'l') are not created: such an
// entry is laid out as an ordinary file of its length.
//
// When a torrent has "name.utf-8" or "path.utf-8" in valid UTF-8 it is
// preferred to "name" or "path", as libtorrent and Transmission do.
// BitTorrent v2-only torrents (BEP 52 without v1 pieces) are rejected;
// hybrid torrents are read through their v1 fields.
//
// # Errors
//
// Validation errors say what is wrong ("metainfo: info: piece length 0:
// must be > 0") and match ErrInvalid with errors.Is; see ErrUnsafePath,
// ErrTooLarge, ErrInvalidMagnet and ErrInvalidHash for the finer kinds.
// Optional top-level fields of a wrong type (a numeric comment, a
// malformed announce-list) are ignored rather than fatal.
package metainfo
