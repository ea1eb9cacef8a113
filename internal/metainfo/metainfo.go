package metainfo

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/gobit/gobit/internal/bencode"
)

// MaxTorrentSize bounds the size of a .torrent file (Load, Parse) and of an
// info dictionary (ParseInfo): 64 MiB.
const MaxTorrentSize = 64 << 20

// MetaInfo is a parsed .torrent file.
type MetaInfo struct {
	// Info is the parsed and validated info dictionary.
	Info Info
	// InfoBytes holds the info dictionary exactly as it appeared in the
	// file, as served to peers over ut_metadata (BEP 9).
	InfoBytes []byte
	// InfoHash is the SHA-1 of InfoBytes.
	InfoHash Hash
	// Announce is the main tracker URL, possibly empty.
	Announce string
	// AnnounceList holds the BEP 12 tracker tiers as found in the file.
	// Use Trackers for the cleaned-up tiers.
	AnnounceList [][]string
	// URLList holds the BEP 19 web seed URLs.
	URLList []string
	// Comment is the free-form comment.
	Comment string
	// CreatedBy names the program that made the torrent.
	CreatedBy string
	// CreationDate is the creation time in Unix seconds, 0 if absent.
	CreationDate int64
}

// rawTorrent is the top-level dictionary as decoded: optional fields are
// kept raw and decoded leniently (a wrongly typed comment does not make the
// torrent unusable).
type rawTorrent struct {
	Info         bencode.RawMessage `bencode:"info"`
	Announce     bencode.RawMessage `bencode:"announce"`
	AnnounceList bencode.RawMessage `bencode:"announce-list"`
	URLList      bencode.RawMessage `bencode:"url-list"`
	Comment      bencode.RawMessage `bencode:"comment"`
	CommentUTF8  bencode.RawMessage `bencode:"comment.utf-8"`
	CreatedBy    bencode.RawMessage `bencode:"created by"`
	CreationDate bencode.RawMessage `bencode:"creation date"`
}

// rawInfo is the info dictionary as decoded. Required fields are typed, so
// a wrong type is an error; optional ones are raw and lenient.
type rawInfo struct {
	Name        *string            `bencode:"name"`
	NameUTF8    bencode.RawMessage `bencode:"name.utf-8"`
	PieceLength *int64             `bencode:"piece length"`
	Pieces      *[]byte            `bencode:"pieces"`
	Length      *int64             `bencode:"length"`
	Files       []rawFile          `bencode:"files"`
	Private     bencode.RawMessage `bencode:"private"`
	Source      bencode.RawMessage `bencode:"source"`
	MetaVersion bencode.RawMessage `bencode:"meta version"`
}

// rawFile is one entry of the files list as decoded.
type rawFile struct {
	Length   *int64             `bencode:"length"`
	Path     []string           `bencode:"path"`
	PathUTF8 bencode.RawMessage `bencode:"path.utf-8"`
	Attr     bencode.RawMessage `bencode:"attr"`
}

// Parse parses and validates a .torrent file. InfoHash is the SHA-1 of the
// info dictionary's bytes exactly as they appear in data. Errors match
// ErrInvalid (and ErrUnsafePath or ErrTooLarge where they apply).
func Parse(data []byte) (*MetaInfo, error) {
	if len(data) > MaxTorrentSize {
		return nil, errorf(ErrTooLarge, "metainfo: torrent of %d bytes: at most %d allowed", len(data), MaxTorrentSize)
	}
	var raw rawTorrent
	if err := bencode.Unmarshal(data, &raw); err != nil {
		return nil, wrapInvalid(err, "metainfo: decoding torrent")
	}
	if len(raw.Info) == 0 {
		return nil, invalidf("metainfo: missing info dictionary")
	}
	info, err := ParseInfo(raw.Info)
	if err != nil {
		return nil, err
	}
	m := &MetaInfo{
		Info:      *info,
		InfoBytes: []byte(raw.Info),
		InfoHash:  sha1.Sum(raw.Info),
	}
	m.Announce = strings.TrimSpace(lenientString(raw.Announce))
	m.AnnounceList = lenientTiers(raw.AnnounceList)
	m.URLList = lenientStrings(raw.URLList)
	if c := lenientString(raw.CommentUTF8); c != "" && utf8.ValidString(c) {
		m.Comment = c
	} else {
		m.Comment = lenientString(raw.Comment)
	}
	m.CreatedBy = lenientString(raw.CreatedBy)
	_ = bencode.Unmarshal(raw.CreationDate, &m.CreationDate)
	return m, nil
}

// Load reads and parses the .torrent file at path, refusing files larger
// than MaxTorrentSize.
func Load(path string) (*MetaInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("metainfo: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, fmt.Errorf("metainfo: %w", err)
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("metainfo: %s: not a regular file", path)
	} else if st.Size() > MaxTorrentSize {
		return nil, errorf(ErrTooLarge, "metainfo: %s: %d bytes: at most %d allowed", path, st.Size(), MaxTorrentSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxTorrentSize+1))
	if err != nil {
		return nil, fmt.Errorf("metainfo: reading %s: %w", path, err)
	}
	if len(data) > MaxTorrentSize {
		return nil, errorf(ErrTooLarge, "metainfo: %s: larger than %d bytes", path, MaxTorrentSize)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, &detailError{msg: path + ": " + err.Error(), kind: err}
	}
	return m, nil
}

// ParseInfo parses and validates a bencoded info dictionary, such as one
// fetched from peers with ut_metadata (BEP 9). The caller checks that its
// SHA-1 is the expected info hash. Errors match ErrInvalid.
func ParseInfo(infoBytes []byte) (*Info, error) {
	if len(infoBytes) > MaxTorrentSize {
		return nil, errorf(ErrTooLarge, "metainfo: info of %d bytes: at most %d allowed", len(infoBytes), MaxTorrentSize)
	}
	if len(infoBytes) == 0 || infoBytes[0] != 'd' {
		return nil, invalidf("metainfo: info: not a dictionary")
	}
	var raw rawInfo
	if err := bencode.Unmarshal(infoBytes, &raw); err != nil {
		return nil, wrapInvalid(err, "metainfo: info")
	}
	info, err := raw.toInfo()
	if err != nil {
		return nil, err
	}
	if err := info.Validate(); err != nil {
		return nil, err
	}
	return info, nil
}

// toInfo checks presence of the required fields and converts.
func (r *rawInfo) toInfo() (*Info, error) {
	if r.Pieces == nil && r.Length == nil && r.Files == nil {
		var v int64
		if bencode.Unmarshal(r.MetaVersion, &v) == nil && v == 2 {
			return nil, invalidf("metainfo: info: BitTorrent v2-only torrents are not supported (no v1 pieces)")
		}
	}
	switch {
	case r.Name == nil:
		return nil, invalidf("metainfo: info: missing name")
	case r.PieceLength == nil:
		return nil, invalidf("metainfo: info: missing piece length")
	case r.Pieces == nil:
		return nil, invalidf("metainfo: info: missing pieces")
	case r.Length != nil && r.Files != nil:
		return nil, invalidf("metainfo: info: has both length and files")
	case r.Length == nil && r.Files == nil:
		return nil, invalidf("metainfo: info: missing length or files")
	case r.Files != nil && len(r.Files) == 0:
		return nil, invalidf("metainfo: info: files list is empty")
	case len(r.Files) > MaxFiles:
		return nil, invalidf("metainfo: info: %d files: at most %d allowed", len(r.Files), MaxFiles)
	}
	info := &Info{
		Name:        preferUTF8(*r.Name, r.NameUTF8),
		PieceLength: *r.PieceLength,
		Pieces:      *r.Pieces,
		Source:      lenientString(r.Source),
	}
	var priv int64
	if bencode.Unmarshal(r.Private, &priv) == nil && priv != 0 {
		info.Private = true
	}
	if r.Length != nil {
		info.Length = *r.Length
		return info, nil
	}
	info.Files = make([]File, len(r.Files))
	for i, f := range r.Files {
		if f.Length == nil {
			return nil, invalidf("metainfo: info: files[%d]: missing length", i)
		}
		if f.Path == nil {
			return nil, invalidf("metainfo: info: files[%d]: missing path", i)
		}
		p := f.Path
		var alt []string
		if len(f.PathUTF8) > 0 && bencode.Unmarshal(f.PathUTF8, &alt) == nil && len(alt) > 0 && allValidUTF8(alt) {
			p = alt
		}
		info.Files[i] = File{Length: *f.Length, Path: p, Attr: lenientString(f.Attr)}
	}
	return info, nil
}

// preferUTF8 returns the ".utf-8" variant of a string field when it is
// present and valid UTF-8, as libtorrent and Transmission do.
func preferUTF8(s string, alt bencode.RawMessage) string {
	if a := lenientString(alt); a != "" && utf8.ValidString(a) {
		return a
	}
	return s
}

func allValidUTF8(ss []string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// lenientString decodes a raw string value, or returns "" if it is absent
// or of another type.
func lenientString(raw bencode.RawMessage) string {
	var s string
	if len(raw) == 0 || bencode.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// lenientStrings decodes a string or a list of strings, skipping elements
// of other types and empty strings.
func lenientStrings(raw bencode.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	if s := strings.TrimSpace(lenientString(raw)); s != "" {
		return []string{s}
	}
	var items []bencode.RawMessage
	if bencode.Unmarshal(raw, &items) != nil {
		return nil
	}
	var out []string
	for _, it := range items {
		if s := strings.TrimSpace(lenientString(it)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// lenientTiers decodes an announce-list, keeping the well-formed URLs.
func lenientTiers(raw bencode.RawMessage) [][]string {
	if len(raw) == 0 {
		return nil
	}
	var tiers []bencode.RawMessage
	if bencode.Unmarshal(raw, &tiers) != nil {
		return nil
	}
	var out [][]string
	for _, t := range tiers {
		if bytes.HasPrefix(t, []byte("l")) {
			if urls := lenientStrings(t); len(urls) > 0 {
				out = append(out, urls)
			}
		}
	}
	return out
}

// Trackers returns the tracker tiers: AnnounceList if it has any URL,
// otherwise [[Announce]], or nil when there is no tracker. Empty URLs and
// empty tiers are dropped and a URL appears only in its first tier.
func (m *MetaInfo) Trackers() [][]string {
	seen := make(map[string]bool)
	var out [][]string
	for _, tier := range m.AnnounceList {
		var t []string
		for _, u := range tier {
			u = strings.TrimSpace(u)
			if u == "" || seen[u] {
				continue
			}
			seen[u] = true
			t = append(t, u)
		}
		if len(t) > 0 {
			out = append(out, t)
		}
	}
	if len(out) > 0 {
		return out
	}
	if a := strings.TrimSpace(m.Announce); a != "" {
		return [][]string{{a}}
	}
	return nil
}

// Magnet returns a magnet link for the torrent: its info hash, name,
// total length, trackers (all tiers, in order) and web seeds.
func (m *MetaInfo) Magnet() Magnet {
	mg := Magnet{InfoHash: m.InfoHash, Name: m.Info.Name, Length: m.Info.TotalLength()}
	for _, tier := range m.Trackers() {
		for _, u := range tier {
			mg.Trackers = appendUnique(mg.Trackers, u)
		}
	}
	for _, w := range m.URLList {
		mg.WebSeeds = appendUnique(mg.WebSeeds, strings.TrimSpace(w))
	}
	return mg
}
