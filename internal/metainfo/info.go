package metainfo

import (
	"path/filepath"
	"strings"
)

// Limits applied when validating an info dictionary.
const (
	// MaxPieceLength is the largest accepted piece length (64 MiB). Piece
	// lengths need not be powers of two: any positive value up to this
	// limit is accepted, since some creators use odd sizes.
	MaxPieceLength = 64 << 20
	// MaxTotalLength bounds the sum of all file lengths (1 PiB).
	MaxTotalLength = 1 << 50
	// MaxFiles bounds the number of entries in a multi-file torrent's
	// file list, padding files included.
	MaxFiles = 1_000_000
	// MaxFileLength bounds the length of one file: it must be below
	// (2^30-1) blocks of 16 KiB (just under 16 TiB), libtorrent's limit.
	MaxFileLength = (1<<30 - 1) * 16 << 10
)

// File is one entry of a multi-file torrent's file list, as it appears in
// the torrent: Path holds the raw, unsanitized components. Use
// Info.FileEntries for paths that are safe to open.
type File struct {
	// Length is the file's size in bytes.
	Length int64
	// Path is the list of path components below the torrent's name
	// (".pad", "<length>" for a padding file that has no path).
	Path []string
	// Attr holds the BEP 47 attributes: 'p' padding file, 'x'
	// executable, 'h' hidden, 'l' symbolic link.
	Attr string
}

// IsPad reports whether the file is a BEP 47 padding file, whose content
// is zeros and is never written to disk.
func (f File) IsPad() bool { return strings.ContainsRune(f.Attr, 'p') }

// IsSymlink reports whether the entry is a BEP 47 symbolic link. Its length
// is 0 (Parse ignores a "length" given for it, as libtorrent does) and
// gobit never creates the link: the entry is laid out as an empty file, so
// no link can point outside the save directory.
func (f File) IsSymlink() bool { return strings.ContainsRune(f.Attr, 'l') }

// Info is the content of a torrent's info dictionary: the payload's layout
// and piece hashes. Its SHA-1, in the bencoded form that was received, is
// the torrent's info hash.
//
// An Info returned by Parse, ParseInfo or Create has passed Validate;
// callers must not modify it. An Info built by hand must be validated
// before its methods are trusted.
type Info struct {
	// Name is the suggested name of the file (single-file torrent) or of
	// the top directory (multi-file torrent), unsanitized.
	Name string
	// PieceLength is the number of bytes in each piece but the last.
	PieceLength int64
	// Pieces is the concatenation of the SHA-1 hashes of all pieces.
	Pieces []byte
	// Length is the payload size of a single-file torrent (0 when Files
	// is used).
	Length int64
	// Files is the file list of a multi-file torrent (nil for a
	// single-file torrent).
	Files []File
	// Private is the BEP 27 private flag: peers come only from the
	// torrent's trackers (no DHT, PEX or local discovery).
	Private bool
	// Source is the optional "source" string some private trackers add
	// to make the info hash unique to them.
	Source string
}

// FileEntry is one file of the storage layout, in torrent order.
type FileEntry struct {
	// Path is the sanitized path relative to the save directory, with the
	// host's separators: "<name>" for a single-file torrent and
	// "<name>/<a>/<b>" for a multi-file torrent. filepath.IsLocal(Path)
	// always holds.
	Path string
	// Length is the file's size in bytes.
	Length int64
	// Offset is the position of the file's first byte in the torrent's
	// concatenated payload.
	Offset int64
	// Pad marks a BEP 47 padding file: its bytes are zeros and it is
	// never written to disk. Padding files take part in making paths
	// unique, as in libtorrent, so that the other files get the same
	// names as there.
	Pad bool
}

// MultiFile reports whether the torrent has a file list (even one with a
// single file) rather than a single file named Name.
func (i *Info) MultiFile() bool { return len(i.Files) > 0 }

// NumPieces returns the number of pieces.
func (i *Info) NumPieces() int { return len(i.Pieces) / HashSize }

// PieceHash returns the SHA-1 hash of piece index, or the zero hash when
// index is out of range.
func (i *Info) PieceHash(index int) [20]byte {
	var h [20]byte
	if index < 0 || index >= i.NumPieces() {
		return h
	}
	copy(h[:], i.Pieces[index*HashSize:])
	return h
}

// PieceSize returns the length of piece index: PieceLength for all pieces
// but the last, which may be shorter. It returns 0 when index is out of
// range.
func (i *Info) PieceSize(index int) int64 {
	n := i.NumPieces()
	if index < 0 || index >= n {
		return 0
	}
	if index == n-1 {
		return i.TotalLength() - int64(n-1)*i.PieceLength
	}
	return i.PieceLength
}

// TotalLength returns the payload size: Length for a single-file torrent,
// the sum of the file lengths (padding included) otherwise.
func (i *Info) TotalLength() int64 {
	if !i.MultiFile() {
		return i.Length
	}
	var n int64
	for _, f := range i.Files {
		n += f.Length
	}
	return n
}

// FileEntries returns the storage layout: one entry per file in torrent
// order, with sanitized local paths and offsets into the payload. It
// returns nil for an Info that does not pass Validate.
func (i *Info) FileEntries() []FileEntry {
	es, err := i.fileEntries(hostRules)
	if err != nil {
		return nil
	}
	return es
}

// Validate checks the info dictionary: a piece length in
// (0, MaxPieceLength], either a length or a non-empty file list, file
// lengths in [0, MaxFileLength) (0 for symbolic links) with a total in
// (0, MaxTotalLength), at most MaxFiles files, a pieces string of 20 bytes
// per piece, and a name and file paths that can be sanitized (see the
// package documentation). Errors match ErrInvalid.
func (i *Info) Validate() error {
	return i.validate(hostRules)
}

func (i *Info) validate(r pathRules) error {
	if i.PieceLength <= 0 {
		return invalidf("metainfo: info: piece length %d: must be > 0", i.PieceLength)
	}
	if i.PieceLength > MaxPieceLength {
		return invalidf("metainfo: info: piece length %d: must be at most %d (64 MiB)", i.PieceLength, MaxPieceLength)
	}
	var total int64
	if i.MultiFile() {
		if i.Length != 0 {
			return invalidf("metainfo: info: has both length and files")
		}
		if len(i.Files) > MaxFiles {
			return invalidf("metainfo: info: %d files: at most %d allowed", len(i.Files), MaxFiles)
		}
		for k, f := range i.Files {
			if f.Length < 0 {
				return invalidf("metainfo: info: files[%d]: length %d: must be >= 0", k, f.Length)
			}
			if f.Length >= MaxFileLength {
				return invalidf("metainfo: info: files[%d]: length %d: must be below %d", k, f.Length, int64(MaxFileLength))
			}
			if f.IsSymlink() && f.Length != 0 {
				return invalidf("metainfo: info: files[%d]: symbolic link of length %d: must be 0", k, f.Length)
			}
			if f.Length >= MaxTotalLength-total {
				return invalidf("metainfo: info: total length: must be below 2^50 bytes")
			}
			total += f.Length
		}
	} else {
		if i.Length < 0 {
			return invalidf("metainfo: info: length %d: must be >= 0", i.Length)
		}
		if i.Length >= MaxFileLength {
			return invalidf("metainfo: info: length %d: must be below %d", i.Length, int64(MaxFileLength))
		}
		total = i.Length
	}
	if total == 0 {
		return invalidf("metainfo: info: total length is 0: torrent has no data")
	}
	if len(i.Pieces)%HashSize != 0 {
		return invalidf("metainfo: info: pieces length %d: not a multiple of 20", len(i.Pieces))
	}
	want := (total + i.PieceLength - 1) / i.PieceLength
	if int64(len(i.Pieces)/HashSize) != want {
		return invalidf("metainfo: info: %d piece hashes, want %d for %d bytes in pieces of %d",
			len(i.Pieces)/HashSize, want, total, i.PieceLength)
	}
	_, err := i.fileEntries(r)
	return err
}

// fileEntries computes the layout under rules r. Every path is sanitized
// (see sanitizeComponent) and then made unique as libtorrent does: a file
// whose path, compared case-insensitively, is already taken by an earlier
// file or by a directory of any file is renamed "<base>.<n><ext>" with the
// smallest n >= 1 that is free ("a.txt" becomes "a.1.txt", "a" becomes
// "a.1").
func (i *Info) fileEntries(r pathRules) ([]FileEntry, error) {
	name := sanitizeComponent(i.Name, r)
	if !i.MultiFile() {
		switch name {
		case "":
			return nil, invalidf("metainfo: info: name %q: empty after sanitizing", i.Name)
		case ".", "..":
			return nil, errorf(ErrUnsafePath, "metainfo: info: name %q: not allowed", i.Name)
		}
		if len(name) > MaxPathLength {
			return nil, errorf(ErrUnsafePath, "metainfo: info: name: %d bytes long: at most %d allowed", len(name), MaxPathLength)
		}
		if !filepath.IsLocal(name) {
			return nil, errorf(ErrUnsafePath, "metainfo: info: name %q: not a local path", name)
		}
		return []FileEntry{{Path: name, Length: i.Length}}, nil
	}
	switch name {
	case "", ".", "..":
		name = "_" // the directory still needs a name; never the save dir or its parent
	}
	if len(name) > MaxPathLength {
		return nil, errorf(ErrUnsafePath, "metainfo: info: name: %d bytes long: at most %d allowed", len(name), MaxPathLength)
	}
	if len(i.Files) > MaxFiles {
		return nil, invalidf("metainfo: info: %d files: at most %d allowed", len(i.Files), MaxFiles)
	}
	paths := make([]string, len(i.Files))
	var totalBytes int
	var b strings.Builder
	for k, f := range i.Files {
		b.Reset()
		b.WriteString(name)
		parts := 0
		for _, c := range f.Path {
			s := sanitizeComponent(c, r)
			switch s {
			case "", ".":
				continue // dropped
			case "..":
				s = "_" // never followed
			}
			if b.Len()+1+len(s) > MaxPathLength {
				return nil, errorf(ErrUnsafePath, "metainfo: info: files[%d].path: longer than %d bytes", k, MaxPathLength)
			}
			b.WriteByte(filepath.Separator)
			b.WriteString(s)
			parts++
		}
		if parts == 0 {
			b.WriteString(string(filepath.Separator) + "_")
		}
		p := b.String()
		totalBytes += len(p)
		if totalBytes > MaxTotalPathBytes {
			return nil, invalidf("metainfo: info: file paths: more than %d bytes in total", MaxTotalPathBytes)
		}
		paths[k] = p
	}
	uniquePaths(paths, r.foldCase)
	entries := make([]FileEntry, len(i.Files))
	var offset int64
	for k, f := range i.Files {
		p := paths[k]
		if len(p) > MaxPathLength {
			return nil, errorf(ErrUnsafePath, "metainfo: info: files[%d].path: longer than %d bytes", k, MaxPathLength)
		}
		if !filepath.IsLocal(p) {
			return nil, errorf(ErrUnsafePath, "metainfo: info: files[%d].path %q: not a local path", k, p)
		}
		entries[k] = FileEntry{Path: p, Length: f.Length, Offset: offset, Pad: f.IsPad()}
		offset += f.Length
	}
	return entries, nil
}
