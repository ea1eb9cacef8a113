package metainfo

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gobit/gobit/internal/bencode"
)

// Piece length bounds used by Create when it picks the piece length.
const (
	minAutoPieceLength = 16 << 10
	maxAutoPieceLength = 16 << 20
	targetPieces       = 1500
)

// CreateOptions describes a torrent for Create to build.
type CreateOptions struct {
	// Path is the file or directory to share.
	Path string
	// Name is the torrent's name; empty means the base name of Path.
	Name string
	// PieceLength is the piece size in bytes; 0 picks a power of two
	// between 16 KiB and 16 MiB giving about 1500 pieces.
	PieceLength int64
	// Trackers are the tracker tiers; the first URL becomes "announce",
	// and "announce-list" is written when there is more than one URL.
	Trackers [][]string
	// WebSeeds are BEP 19 web seed URLs ("url-list").
	WebSeeds []string
	// Comment and CreatedBy fill the optional fields of the same name.
	Comment, CreatedBy string
	// Private sets the BEP 27 private flag.
	Private bool
	// CreationDate is written as "creation date" (Unix seconds) when it
	// is not 0.
	CreationDate int64
}

// encTorrent and encInfo are the dictionaries Create writes.
type encTorrent struct {
	Announce     string             `bencode:"announce,omitempty"`
	AnnounceList [][]string         `bencode:"announce-list,omitempty"`
	Comment      string             `bencode:"comment,omitempty"`
	CreatedBy    string             `bencode:"created by,omitempty"`
	CreationDate int64              `bencode:"creation date,omitempty"`
	Info         bencode.RawMessage `bencode:"info"`
	URLList      []string           `bencode:"url-list,omitempty"`
}

type encInfo struct {
	Files       []encFile `bencode:"files,omitempty"`
	Length      int64     `bencode:"length,omitempty"`
	Name        string    `bencode:"name"`
	PieceLength int64     `bencode:"piece length"`
	Pieces      []byte    `bencode:"pieces"`
	Private     int64     `bencode:"private,omitempty"`
}

type encFile struct {
	Length int64    `bencode:"length"`
	Path   []string `bencode:"path"`
}

// sourceFile is one file found on disk for Create.
type sourceFile struct {
	full string   // path to open
	rel  []string // components below the torrent's root
	size int64
}

// Create builds a .torrent for the file or directory opts.Path. A
// directory's regular files (symbolic links to regular files included,
// symbolic links to directories skipped) are sorted by path, component by
// component; hashing streams through one piece-sized buffer. It returns the
// encoded torrent and its parsed form.
func Create(opts CreateOptions) (data []byte, mi *MetaInfo, err error) {
	if opts.PieceLength < 0 || opts.PieceLength > MaxPieceLength {
		return nil, nil, fmt.Errorf("metainfo: create: piece length %d: must be between 1 and %d (or 0 for automatic)", opts.PieceLength, MaxPieceLength)
	}
	root, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, nil, fmt.Errorf("metainfo: create: %w", err)
	}
	st, err := os.Stat(root)
	if err != nil {
		return nil, nil, fmt.Errorf("metainfo: create: %w", err)
	}
	name := opts.Name
	if name == "" {
		name = filepath.Base(root)
	}
	var files []sourceFile
	switch {
	case st.Mode().IsRegular():
		files = []sourceFile{{full: root, size: st.Size()}}
	case st.IsDir():
		if files, err = listFiles(root); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("metainfo: create: %s: not a regular file or directory", root)
	}
	var total int64
	for _, f := range files {
		total += f.size
	}
	if total == 0 {
		return nil, nil, fmt.Errorf("metainfo: create: %s: no data (total length 0)", root)
	}
	if total >= MaxTotalLength {
		return nil, nil, fmt.Errorf("metainfo: create: %s: %d bytes: at most 2^50 allowed", root, total)
	}
	pl := opts.PieceLength
	if pl == 0 {
		pl = autoPieceLength(total)
	}
	pieces, err := hashFiles(files, pl, total)
	if err != nil {
		return nil, nil, err
	}

	info := encInfo{Name: name, PieceLength: pl, Pieces: pieces}
	if opts.Private {
		info.Private = 1
	}
	if st.IsDir() {
		info.Files = make([]encFile, len(files))
		for i, f := range files {
			info.Files[i] = encFile{Length: f.size, Path: f.rel}
		}
	} else {
		info.Length = total
	}
	infoBytes, err := bencode.Marshal(info)
	if err != nil {
		return nil, nil, fmt.Errorf("metainfo: create: encoding info: %w", err)
	}
	t := encTorrent{
		Comment:      opts.Comment,
		CreatedBy:    opts.CreatedBy,
		CreationDate: opts.CreationDate,
		Info:         infoBytes,
	}
	tiers := (&MetaInfo{AnnounceList: opts.Trackers}).Trackers()
	if len(tiers) > 0 {
		t.Announce = tiers[0][0]
		if len(tiers) > 1 || len(tiers[0]) > 1 {
			t.AnnounceList = tiers
		}
	}
	for _, w := range opts.WebSeeds {
		t.URLList = appendUnique(t.URLList, strings.TrimSpace(w))
	}
	data, err = bencode.Marshal(t)
	if err != nil {
		return nil, nil, fmt.Errorf("metainfo: create: encoding torrent: %w", err)
	}
	mi, err = Parse(data)
	if err != nil {
		return nil, nil, fmt.Errorf("metainfo: create: the result does not validate: %w", err)
	}
	return data, mi, nil
}

// autoPieceLength picks a power of two in [16 KiB, 16 MiB] that gives
// about targetPieces pieces.
func autoPieceLength(total int64) int64 {
	pl := int64(minAutoPieceLength)
	for pl < maxAutoPieceLength && (total+pl-1)/pl > targetPieces {
		pl *= 2
	}
	return pl
}

// listFiles returns the regular files below root, sorted by path.
func listFiles(root string) ([]sourceFile, error) {
	var files []sourceFile
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			if info, err = os.Stat(p); err != nil {
				return err
			}
		}
		if !info.Mode().IsRegular() {
			return nil // directories behind symlinks, devices, sockets
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if len(files) >= MaxFiles {
			return fmt.Errorf("more than %d files", MaxFiles)
		}
		files = append(files, sourceFile{full: p, rel: strings.Split(rel, string(filepath.Separator)), size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("metainfo: create: listing %s: %w", root, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("metainfo: create: %s: no files", root)
	}
	slices.SortFunc(files, func(a, b sourceFile) int { return slices.Compare(a.rel, b.rel) })
	return files, nil
}

// hashFiles streams the files' concatenated contents through SHA-1, one
// piece at a time, and returns the piece hashes.
func hashFiles(files []sourceFile, pieceLength, total int64) ([]byte, error) {
	n := (total + pieceLength - 1) / pieceLength
	pieces := make([]byte, 0, n*HashSize)
	buf := make([]byte, pieceLength)
	fill := 0
	for _, f := range files {
		if err := func() error {
			fh, err := os.Open(f.full)
			if err != nil {
				return err
			}
			defer fh.Close()
			left := f.size
			for left > 0 {
				want := min(int64(len(buf)-fill), left)
				k, err := io.ReadFull(fh, buf[fill:fill+int(want)])
				fill += k
				left -= int64(k)
				if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
					return fmt.Errorf("%s: file shrank while hashing", f.full)
				}
				if err != nil {
					return err
				}
				if fill == len(buf) {
					sum := sha1.Sum(buf)
					pieces = append(pieces, sum[:]...)
					fill = 0
				}
			}
			return nil
		}(); err != nil {
			return nil, fmt.Errorf("metainfo: create: hashing: %w", err)
		}
	}
	if fill > 0 {
		sum := sha1.Sum(buf[:fill])
		pieces = append(pieces, sum[:]...)
	}
	return pieces, nil
}
