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
//   - 0 < PieceLength <= MaxPieceLength (64 MiB; not necessarily a power
//     of two, since some creators use odd sizes);
//   - exactly one of Length (single file) and Files (non-empty list) is
//     used; file lengths are >= 0 and below MaxFileLength (libtorrent's
//     limit, just under 16 TiB); 0 < TotalLength < MaxTotalLength (2^50)
//     (a torrent with no data is rejected); at most MaxFiles files;
//   - len(Pieces) == 20 * ceil(TotalLength / PieceLength);
//   - FileEntries returns one entry per file, whose Path is clean and
//     satisfies filepath.IsLocal, and no two entries (padding files
//     included) share a path and no file's path is a directory of another
//     (compared ASCII-case-insensitively, and Unicode-case-insensitively
//     on Windows and macOS).
//
// For a MetaInfo, InfoHash is the SHA-1 of InfoBytes, the info dictionary
// exactly as found in the file (not re-encoded), so non-canonical torrents
// keep their identity.
//
// # Liberal like libtorrent
//
// Every torrent that libtorrent opens, gobit opens, with the exceptions
// listed in diffAllowed in difftest_test.go (piece lengths above 64 MiB,
// BitTorrent v2-only torrents); a differential test checks this against
// python3-libtorrent. Parse reads bencode with libtorrent's syntax rules:
// bytes after the top-level dictionary are ignored, dictionary keys may be
// unsorted or repeated (the first occurrence counts, as in libtorrent),
// integers and string lengths may have leading zeros, and at most 99 lists
// and dictionaries may be nested. Optional fields of a wrong type are
// ignored ("url-list" may be a string or a list, "creation date" a
// string); BitComet's "name.utf-8" and "path.utf-8" win over "name" and
// "path" when present; a "files" list wins over a "length" next to it.
// BEP 47 symbolic links (attr contains 'l') have length 0 whatever their
// "length" says and are never created as links: each is laid out as an
// empty regular file, so no link can lead outside the save directory.
// Padding files (attr contains 'p') may lack a path; they are then named
// ".pad/<length>".
//
// # Untrusted file paths
//
// Paths in a torrent come from strangers. Each component (the name too) is
// treated as follows:
//   - "." and empty components are dropped; ".." components become "_":
//     they are never followed. A path with no component left becomes "_".
//   - a multi-file torrent whose name is empty, "." or ".." gets the
//     directory "_"; a single-file torrent with such a name is rejected
//     (ErrInvalid, or ErrUnsafePath for "." and ".."), as libtorrent does;
//   - '/' and '\' inside a component (absolute paths, "a/b" in one
//     component) and control characters (NUL, C0, DEL, C1) are replaced
//     with '_'; invalid UTF-8 is replaced with U+FFFD;
//   - on Windows only, the characters <>:"|?* (drive letters, alternate
//     data streams) and a trailing dot or space are replaced with '_', and
//     reserved device names (CON, NUL, COM1, LPT1.txt, …) get a '_' prefix;
//   - a path longer than MaxPathLength bytes is rejected, as are torrents
//     whose paths add up to more than MaxTotalPathBytes;
//   - paths are then made unique as libtorrent 2.0 does: a file whose path
//     is taken, case-insensitively, by an earlier file or by a directory of
//     any file is renamed "<base>.<n><ext>" with the smallest free n >= 1
//     ("a.txt", "a.txt" becomes "a.txt", "a.1.txt"; a file "x" next to a
//     directory "x/" becomes "x.1"). A torrent is never refused for
//     colliding paths, and the renaming takes linear time.
//
// Components longer than the file system allows (255 bytes on most) are
// not shortened: creating such a file fails later in storage with a clear
// error. Unicode normalization (macOS stores names in NFD) is not applied,
// so two names that differ only in normalization are not made unique.
//
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
