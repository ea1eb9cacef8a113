package storage

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// File describes one file of a torrent's layout.
type File struct {
	// Path is relative to the save directory and uses filepath separators:
	// "<name>" for a single-file torrent, "<name>/a/b" otherwise.
	Path string
	// Length is the file's size in bytes.
	Length int64
	// Offset is the torrent-global offset of the file's first byte.
	Offset int64
	// Pad marks a BEP 47 pad file: never written to disk, reads as zeros.
	Pad bool
}

// Layout is the plain description of a torrent's data that storage needs.
// It is built from a metainfo.Info with LayoutFromInfo, or by hand in tests.
type Layout struct {
	// PieceLength is the nominal piece size; the last piece may be shorter.
	PieceLength int64
	// TotalLength is the sum of all file lengths.
	TotalLength int64
	// Files lists the files in torrent order; they must be contiguous.
	Files []File
	// Hashes holds the SHA-1 of each piece. It may be nil, in which case
	// Check returns ErrNoHashes.
	Hashes [][20]byte
}

// NumPieces returns the number of pieces of the layout.
func (l *Layout) NumPieces() int {
	if l.PieceLength <= 0 || l.TotalLength <= 0 {
		return 0
	}
	n := l.TotalLength / l.PieceLength
	if l.TotalLength%l.PieceLength != 0 {
		n++
	}
	return int(n)
}

// PieceSize returns the size of piece i, or 0 when i is out of range.
func (l *Layout) PieceSize(i int) int64 {
	n := l.NumPieces()
	if i < 0 || i >= n {
		return 0
	}
	if i == n-1 {
		return l.TotalLength - int64(i)*l.PieceLength
	}
	return l.PieceLength
}

// validate checks the invariants documented in the package comment.
func (l *Layout) validate() error {
	if l.PieceLength <= 0 {
		return fmt.Errorf("%w: piece length %d", ErrInvalidLayout, l.PieceLength)
	}
	if l.TotalLength <= 0 {
		return fmt.Errorf("%w: total length %d", ErrInvalidLayout, l.TotalLength)
	}
	if len(l.Files) == 0 {
		return fmt.Errorf("%w: no files", ErrInvalidLayout)
	}
	if l.Hashes != nil && len(l.Hashes) != l.NumPieces() {
		return fmt.Errorf("%w: %d hashes for %d pieces", ErrInvalidLayout, len(l.Hashes), l.NumPieces())
	}
	var off int64
	files := make(map[string]bool, len(l.Files))
	dirs := make(map[string]bool)
	for i, f := range l.Files {
		if f.Length < 0 {
			return fmt.Errorf("%w: file %d %q: negative length %d", ErrInvalidLayout, i, f.Path, f.Length)
		}
		if f.Offset != off {
			return fmt.Errorf("%w: file %d %q: offset %d, want %d", ErrInvalidLayout, i, f.Path, f.Offset, off)
		}
		if f.Length > l.TotalLength-off {
			return fmt.Errorf("%w: file %d %q: extends past total length %d", ErrInvalidLayout, i, f.Path, l.TotalLength)
		}
		off += f.Length
		if f.Pad {
			continue
		}
		if err := checkPath(f.Path); err != nil {
			return fmt.Errorf("%w (file %d)", err, i)
		}
		if files[f.Path] || dirs[f.Path] {
			return fmt.Errorf("%w: file %d %q: path used twice", ErrInvalidLayout, i, f.Path)
		}
		files[f.Path] = true
		for d := filepath.Dir(f.Path); d != "."; d = filepath.Dir(d) {
			if files[d] {
				return fmt.Errorf("%w: file %d %q: parent %q is a file", ErrInvalidLayout, i, f.Path, d)
			}
			dirs[d] = true
		}
	}
	if off != l.TotalLength {
		return fmt.Errorf("%w: files sum to %d, total length %d", ErrInvalidLayout, off, l.TotalLength)
	}
	return nil
}

// checkPath refuses any path that is not a clean, local, relative path.
func checkPath(p string) error {
	if p == "" || !filepath.IsLocal(p) || filepath.Clean(p) != p {
		return fmt.Errorf("%w: %q", ErrOutsideDir, p)
	}
	for _, c := range strings.Split(p, string(filepath.Separator)) {
		if c == ".." || c == "." || c == "" {
			return fmt.Errorf("%w: %q", ErrOutsideDir, p)
		}
	}
	return nil
}

// span is the part of one file covered by a torrent-global byte range.
type span struct {
	file    int   // index into Layout.Files
	fileOff int64 // offset inside the file
	bufOff  int64 // offset inside the caller's range
	n       int64 // length, > 0
}

// forSpans calls fn for each non-empty file span of [off, off+n), in order,
// and stops at the first error. The range must lie inside the torrent.
func (l *Layout) forSpans(off, n int64, fn func(sp span) error) error {
	if n <= 0 {
		return nil
	}
	// First file whose end lies past off; zero-length files are skipped
	// because their end equals their offset.
	i := sort.Search(len(l.Files), func(i int) bool {
		f := &l.Files[i]
		return f.Offset+f.Length > off
	})
	var done int64
	for ; i < len(l.Files) && done < n; i++ {
		f := &l.Files[i]
		if f.Length == 0 {
			continue
		}
		fo := off + done - f.Offset
		m := min(f.Length-fo, n-done)
		if err := fn(span{file: i, fileOff: fo, bufOff: done, n: m}); err != nil {
			return err
		}
		done += m
	}
	return nil
}

// checkRange validates a torrent-global range.
func (l *Layout) checkRange(off int64, n int) error {
	if off < 0 || int64(n) > l.TotalLength || off > l.TotalLength-int64(n) {
		return fmt.Errorf("%w: %d bytes at offset %d (total %d)", ErrOutOfRange, n, off, l.TotalLength)
	}
	return nil
}

// pieceOffset validates a block inside a piece and returns its global offset.
func (l *Layout) pieceOffset(piece int, begin int64, n int) (int64, error) {
	size := l.PieceSize(piece)
	if size == 0 {
		return 0, fmt.Errorf("%w: piece %d of %d", ErrOutOfRange, piece, l.NumPieces())
	}
	if begin < 0 || n < 0 || begin > size || int64(n) > size-begin {
		return 0, fmt.Errorf("%w: piece %d: %d bytes at %d (piece size %d)", ErrOutOfRange, piece, n, begin, size)
	}
	return int64(piece)*l.PieceLength + begin, nil
}
