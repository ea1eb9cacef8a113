package metainfo

import (
	"crypto/sha1"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
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

// Parse parses and validates a .torrent file. It is as liberal as
// libtorrent: bytes after the top-level dictionary are ignored, keys may be
// unsorted or repeated (the first occurrence counts), integers may have
// leading zeros, and optional fields of a wrong type are ignored. InfoHash
// is the SHA-1 of the info dictionary's bytes exactly as they appear in
// data. Errors match ErrInvalid (and ErrUnsafePath or ErrTooLarge where
// they apply).
func Parse(data []byte) (*MetaInfo, error) {
	if len(data) > MaxTorrentSize {
		return nil, errorf(ErrTooLarge, "metainfo: torrent of %d bytes: at most %d allowed", len(data), MaxTorrentSize)
	}
	top, err := readPrefix(data)
	if err != nil {
		return nil, wrapInvalid(err, "metainfo: decoding torrent")
	}
	fields, ok := top.dict()
	if !ok {
		return nil, invalidf("metainfo: torrent is not a dictionary")
	}
	infoVal := fields["info"]
	if !infoVal.isDict() {
		return nil, invalidf("metainfo: missing info dictionary")
	}
	info, err := infoFromValue(infoVal)
	if err != nil {
		return nil, err
	}
	infoBytes := []byte(string(infoVal))
	m := &MetaInfo{
		Info:      *info,
		InfoBytes: infoBytes,
		InfoHash:  sha1.Sum(infoBytes),
	}
	m.Announce = strings.TrimSpace(lenientString(fields["announce"]))
	m.AnnounceList = lenientTiers(fields["announce-list"])
	m.URLList = lenientStrings(fields["url-list"])
	if c := lenientString(fields["comment.utf-8"]); c != "" && utf8.ValidString(c) {
		m.Comment = c
	} else {
		m.Comment = lenientString(fields["comment"])
	}
	m.CreatedBy = lenientString(fields["created by"])
	m.CreationDate, _ = fields["creation date"].int()
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
// fetched from peers with ut_metadata (BEP 9), with the same rules as
// Parse, except that the dictionary must fill infoBytes exactly. The
// caller checks that its SHA-1 is the expected info hash. Errors match
// ErrInvalid.
func ParseInfo(infoBytes []byte) (*Info, error) {
	if len(infoBytes) > MaxTorrentSize {
		return nil, errorf(ErrTooLarge, "metainfo: info of %d bytes: at most %d allowed", len(infoBytes), MaxTorrentSize)
	}
	v, err := readPrefix(infoBytes)
	if err != nil {
		return nil, wrapInvalid(err, "metainfo: info")
	}
	if len(v) != len(infoBytes) {
		return nil, invalidf("metainfo: info: %d bytes of trailing data", len(infoBytes)-len(v))
	}
	if !v.isDict() {
		return nil, invalidf("metainfo: info: not a dictionary")
	}
	return infoFromValue(v)
}

// infoFromValue converts a decoded info dictionary and validates it. It
// follows libtorrent's rules: "name.utf-8" and "path.utf-8" win over "name"
// and "path"; a "files" list makes a multi-file torrent (a "length" next to
// it is ignored); a symbolic link entry (attr contains 'l') has length 0
// whatever its "length" says; a padding file (attr contains 'p') may lack
// a path and is then called ".pad/<length>".
func infoFromValue(v bval) (*Info, error) {
	d, _ := v.dict()
	name, ok := d["name.utf-8"].str()
	if !ok {
		if name, ok = d["name"].str(); !ok {
			return nil, invalidf("metainfo: info: missing name")
		}
	}
	pieceLength, ok := d["piece length"].int()
	if !ok {
		return nil, invalidf("metainfo: info: missing piece length")
	}
	pieces, ok := d["pieces"].str()
	if !ok {
		if mv, _ := d["meta version"].int(); mv == 2 || d["file tree"].isDict() {
			return nil, invalidf("metainfo: info: BitTorrent v2-only torrents are not supported (no v1 pieces)")
		}
		return nil, invalidf("metainfo: info: missing pieces")
	}
	attr := lenientString(d["attr"])
	info := &Info{
		Name:        name,
		PieceLength: pieceLength,
		Pieces:      []byte(pieces),
		Source:      lenientString(d["source"]),
	}
	if priv, _ := d["private"].int(); priv != 0 {
		info.Private = true
	}
	files, multi := d["files"].list()
	if !multi {
		if strings.ContainsRune(attr, 'l') {
			info.Length = 0 // a link has no data
		} else if info.Length, ok = d["length"].int(); !ok {
			return nil, invalidf("metainfo: info: missing length or files")
		}
		if err := info.Validate(); err != nil {
			return nil, err
		}
		return info, nil
	}
	if len(files) == 0 {
		return nil, invalidf("metainfo: info: files list is empty")
	}
	if len(files) > MaxFiles {
		return nil, invalidf("metainfo: info: %d files: at most %d allowed", len(files), MaxFiles)
	}
	info.Files = make([]File, len(files))
	for i, fv := range files {
		f, err := fileFromValue(i, fv)
		if err != nil {
			return nil, err
		}
		info.Files[i] = f
	}
	if err := info.Validate(); err != nil {
		return nil, err
	}
	return info, nil
}

// fileFromValue converts entry i of a files list.
func fileFromValue(i int, v bval) (File, error) {
	d, ok := v.dict()
	if !ok {
		return File{}, invalidf("metainfo: info: files[%d]: not a dictionary", i)
	}
	f := File{Attr: lenientString(d["attr"])}
	if f.IsSymlink() {
		f.Length = 0 // the target is elsewhere; nothing is stored
	} else if f.Length, ok = d["length"].int(); !ok {
		return File{}, invalidf("metainfo: info: files[%d]: missing length", i)
	}
	pv := d["path.utf-8"]
	if !pv.isList() {
		pv = d["path"]
	}
	elems, ok := pv.list()
	if (!ok || len(elems) == 0) && f.IsPad() {
		f.Path = []string{".pad", strconv.FormatInt(f.Length, 10)}
		return f, nil
	}
	if !ok {
		return File{}, invalidf("metainfo: info: files[%d]: missing path", i)
	}
	if len(elems) == 0 {
		return File{}, invalidf("metainfo: info: files[%d]: path is empty", i)
	}
	f.Path = make([]string, len(elems))
	for k, e := range elems {
		if f.Path[k], ok = e.str(); !ok {
			return File{}, invalidf("metainfo: info: files[%d]: path element %d is not a string", i, k)
		}
	}
	return f, nil
}

// lenientString returns v if it is a string, or "" if it is absent or of
// another type.
func lenientString(v bval) string {
	s, _ := v.str()
	return s
}

// lenientStrings decodes a string or a list of strings, skipping elements
// of other types and empty strings.
func lenientStrings(v bval) []string {
	if s, ok := v.str(); ok {
		if s = strings.TrimSpace(s); s != "" {
			return []string{s}
		}
		return nil
	}
	items, _ := v.list()
	var out []string
	for _, it := range items {
		if s := strings.TrimSpace(lenientString(it)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// lenientTiers decodes an announce-list, keeping the well-formed URLs of
// the tiers that are lists.
func lenientTiers(v bval) [][]string {
	tiers, _ := v.list()
	var out [][]string
	for _, t := range tiers {
		if t.isList() {
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
