package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"
)

// Limits are a torrent's own transfer limits. Zero means "no limit of this
// kind" or "use the session default"; the session decides which.
type Limits struct {
	UploadLimit   int64   // bytes per second
	DownloadLimit int64   // bytes per second
	RatioLimit    float64 // stop seeding at this upload/download ratio
	SeedTimeLimit int64   // stop seeding after this many seconds
	UploadSlots   int     // unchoked peers
}

// Torrent is everything gobit keeps about one added torrent.
type Torrent struct {
	InfoHash  [20]byte
	Name      string
	Magnet    string     // the magnet URI it was added from, "" if from a .torrent
	Torrent   []byte     // the .torrent file, nil until known
	InfoBytes []byte     // the bencoded info dictionary once known
	Trackers  [][]string // announce tiers
	SaveDir   string
	Paused    bool
	AddedAt   time.Time
	// CompletedAt is zero until the download finished.
	CompletedAt time.Time
	// Uploaded and Downloaded are the all-time totals. They are stored
	// apart from the rest (see PutStats).
	Uploaded, Downloaded int64
	Limits               Limits
	// Category is the name of the category the torrent is filed under,
	// "" for none; Tags are its free-form tags (see CheckLabel).
	Category string
	Tags     []string
	// Forced is set for a torrent started with "force start": it runs
	// whatever the queue limits.
	Forced bool
	// FilePriorities are the files' priorities by file index (0 skip,
	// 1 low, 2 normal, 3 high); files not in it are normal.
	FilePriorities map[int]int
	// Only, when not empty, is a wish made before the metadata was known:
	// every file not listed is skipped. It is folded into FilePriorities
	// once the metadata is known.
	Only []int
	// Sequential and FirstLastPieceFirst are the piece order settings.
	Sequential, FirstLastPieceFirst bool
	// FilePaths are the paths of the renamed files, by file index,
	// relative to SaveDir; files not in it are where the torrent puts
	// them. An older gobit ignores it (and looks for renamed files at
	// their original paths).
	FilePaths map[int]string
	// DisplayName, when not "", is the name the user gave the torrent,
	// shown instead of Name (which stays the torrent's own).
	DisplayName string
}

// FileStamp is a file's size and modification time when resume data was
// saved; a different stamp at startup means the file changed behind
// gobit's back and its pieces must be rechecked.
type FileStamp struct {
	Size    int64 // -1: the file was absent (or is a BEP 47 pad file)
	ModTime int64 // UnixNano
}

// Resume is a torrent's verified pieces at a moment.
type Resume struct {
	NumPieces int
	Bitfield  []byte // ceil(NumPieces/8) bytes, spare bits clear
	Files     []FileStamp
	SavedAt   time.Time
}

// Bounds on what a decoded record may claim.
const (
	maxPieces    = 1 << 24
	maxFiles     = 1 << 20
	maxKeyLen    = 256
	hashLen      = 20
	statsLen     = 16
	maxTrackers  = 1 << 12
	maxTiers     = 1 << 10
	maxStringLen = 1 << 16
	// maxPathBytes bounds the renamed paths of one torrent, added up.
	maxPathBytes = 128 << 20
)

// On-disk forms. The JSON names are the file format; do not rename them.
type torrentRecord struct {
	Name        string         `json:"name"`
	Magnet      string         `json:"magnet,omitempty"`
	Torrent     []byte         `json:"torrent,omitempty"`
	InfoBytes   []byte         `json:"info,omitempty"`
	Trackers    [][]string     `json:"trackers,omitempty"`
	SaveDir     string         `json:"save_dir"`
	Paused      bool           `json:"paused,omitempty"`
	AddedAt     time.Time      `json:"added_at,omitzero"`
	CompletedAt time.Time      `json:"completed_at,omitzero"`
	Limits      limitsJSON     `json:"limits,omitzero"`
	FilePrio    map[int]int    `json:"file_priorities,omitempty"`
	Only        []int          `json:"only,omitempty"`
	Sequential  bool           `json:"sequential,omitempty"`
	FirstLast   bool           `json:"first_last_piece_first,omitempty"`
	Category    string         `json:"category,omitempty"`
	Tags        []string       `json:"tags,omitempty"`
	Forced      bool           `json:"forced,omitempty"`
	FilePaths   map[int]string `json:"file_paths,omitempty"`
	DisplayName string         `json:"display_name,omitempty"`
}

type limitsJSON struct {
	UploadLimit   int64   `json:"upload,omitempty"`
	DownloadLimit int64   `json:"download,omitempty"`
	RatioLimit    float64 `json:"ratio,omitempty"`
	SeedTimeLimit int64   `json:"seed_time,omitempty"`
	UploadSlots   int     `json:"upload_slots,omitempty"`
}

type resumeRecord struct {
	NumPieces int        `json:"num_pieces"`
	Bitfield  []byte     `json:"bitfield"`
	Files     [][2]int64 `json:"files,omitempty"` // [size, mtime ns]
	SavedAt   time.Time  `json:"saved_at,omitzero"`
}

func encodeTorrent(t Torrent) ([]byte, error) {
	if err := checkTorrent(t); err != nil {
		return nil, err
	}
	return json.Marshal(torrentRecord{
		Name: t.Name, Magnet: t.Magnet, Torrent: t.Torrent, InfoBytes: t.InfoBytes,
		Trackers: t.Trackers, SaveDir: t.SaveDir, Paused: t.Paused,
		AddedAt: t.AddedAt, CompletedAt: t.CompletedAt,
		Limits:   limitsJSON(t.Limits),
		Category: t.Category, Tags: t.Tags, Forced: t.Forced,
		FilePrio: t.FilePriorities, Only: t.Only,
		Sequential: t.Sequential, FirstLast: t.FirstLastPieceFirst,
		FilePaths: t.FilePaths, DisplayName: t.DisplayName,
	})
}

func decodeTorrent(key, val []byte) (Torrent, error) {
	var t Torrent
	if len(key) != hashLen {
		return t, fmt.Errorf("%w: torrent key %x is %d bytes, want %d", ErrCorrupt, key, len(key), hashLen)
	}
	copy(t.InfoHash[:], key)
	var r torrentRecord
	if err := json.Unmarshal(val, &r); err != nil {
		return t, fmt.Errorf("%w: torrent %x: %v", ErrCorrupt, key, err)
	}
	t.Name, t.Magnet, t.Torrent, t.InfoBytes = r.Name, r.Magnet, r.Torrent, r.InfoBytes
	t.Trackers, t.SaveDir, t.Paused = r.Trackers, r.SaveDir, r.Paused
	t.AddedAt, t.CompletedAt, t.Limits = r.AddedAt, r.CompletedAt, Limits(r.Limits)
	t.Category, t.Tags, t.Forced = r.Category, r.Tags, r.Forced
	// A damaged label costs the label, not the torrent.
	t.Category, t.Tags = saneLabels(t.Category, t.Tags)
	t.FilePriorities, t.Only = r.FilePrio, r.Only
	t.Sequential, t.FirstLastPieceFirst = r.Sequential, r.FirstLast
	t.FilePaths, t.DisplayName = r.FilePaths, r.DisplayName
	if err := checkTorrent(t); err != nil {
		return t, fmt.Errorf("%w: torrent %x: %v", ErrCorrupt, key, err)
	}
	return t, nil
}

// checkTorrent bounds a torrent record's sizes, both when writing and when
// reading one back.
func checkTorrent(t Torrent) error {
	if len(t.Name) > maxStringLen || len(t.SaveDir) > maxStringLen {
		return errors.New("name or save dir too long")
	}
	if len(t.Trackers) > maxTiers {
		return fmt.Errorf("%d tracker tiers, max %d", len(t.Trackers), maxTiers)
	}
	n := 0
	for _, tier := range t.Trackers {
		n += len(tier)
		for _, u := range tier {
			if len(u) > maxStringLen {
				return errors.New("tracker URL too long")
			}
		}
	}
	if n > maxTrackers {
		return fmt.Errorf("%d trackers, max %d", n, maxTrackers)
	}
	if t.Uploaded < 0 || t.Downloaded < 0 {
		return errors.New("negative transfer totals")
	}
	if t.Category != "" {
		if err := CheckLabel("category", t.Category); err != nil {
			return err
		}
	}
	if err := CheckTags(t.Tags); err != nil {
		return err
	}
	if len(t.FilePriorities) > maxFiles || len(t.Only) > maxFiles {
		return fmt.Errorf("file priorities for more than %d files", maxFiles)
	}
	for i, p := range t.FilePriorities {
		if i < 0 || i >= maxFiles || p < 0 || p > 3 {
			return fmt.Errorf("bad file priority %d for file %d", p, i)
		}
	}
	for _, i := range t.Only {
		if i < 0 || i >= maxFiles {
			return fmt.Errorf("bad file index %d", i)
		}
	}
	if len(t.DisplayName) > maxStringLen {
		return errors.New("display name too long")
	}
	if len(t.FilePaths) > maxFiles {
		return fmt.Errorf("paths for more than %d files", maxFiles)
	}
	total := 0
	for i, p := range t.FilePaths {
		if i < 0 || i >= maxFiles || p == "" || len(p) > maxStringLen {
			return fmt.Errorf("bad path for file %d", i)
		}
		total += len(p)
	}
	if total > maxPathBytes {
		return fmt.Errorf("renamed paths add up to more than %d bytes", maxPathBytes)
	}
	return nil
}

func encodeResume(r Resume) ([]byte, error) {
	if err := checkResume(r); err != nil {
		return nil, err
	}
	rec := resumeRecord{NumPieces: r.NumPieces, Bitfield: r.Bitfield, SavedAt: r.SavedAt}
	if rec.Bitfield == nil {
		rec.Bitfield = []byte{}
	}
	for _, f := range r.Files {
		rec.Files = append(rec.Files, [2]int64{f.Size, f.ModTime})
	}
	return json.Marshal(rec)
}

func decodeResume(key, val []byte) (Resume, error) {
	var rec resumeRecord
	if err := json.Unmarshal(val, &rec); err != nil {
		return Resume{}, fmt.Errorf("%w: resume %x: %v", ErrCorrupt, key, err)
	}
	r := Resume{NumPieces: rec.NumPieces, Bitfield: rec.Bitfield, SavedAt: rec.SavedAt}
	if len(rec.Files) > 0 {
		r.Files = make([]FileStamp, len(rec.Files))
		for i, f := range rec.Files {
			r.Files[i] = FileStamp{Size: f[0], ModTime: f[1]}
		}
	}
	if err := checkResume(r); err != nil {
		return Resume{}, fmt.Errorf("%w: resume %x: %v", ErrCorrupt, key, err)
	}
	return r, nil
}

// checkResume validates resume data: the bitfield must be exactly
// ceil(NumPieces/8) bytes with its spare bits clear, and sizes non-negative.
func checkResume(r Resume) error {
	if r.NumPieces < 0 || r.NumPieces > maxPieces {
		return fmt.Errorf("piece count %d out of range [0, %d]", r.NumPieces, maxPieces)
	}
	if want := (r.NumPieces + 7) / 8; len(r.Bitfield) != want {
		return fmt.Errorf("bitfield is %d bytes, want %d for %d pieces", len(r.Bitfield), want, r.NumPieces)
	}
	if rem := r.NumPieces % 8; rem != 0 && r.Bitfield[len(r.Bitfield)-1]&(0xff>>rem) != 0 {
		return errors.New("bitfield has spare bits set")
	}
	if len(r.Files) > maxFiles {
		return fmt.Errorf("%d files, max %d", len(r.Files), maxFiles)
	}
	for i, f := range r.Files {
		if f.Size < -1 {
			return fmt.Errorf("file %d: size %d", i, f.Size)
		}
	}
	return nil
}

func encodeStats(uploaded, downloaded int64) ([]byte, error) {
	if uploaded < 0 || downloaded < 0 {
		return nil, errors.New("negative transfer totals")
	}
	buf := make([]byte, statsLen)
	binary.BigEndian.PutUint64(buf[0:8], uint64(uploaded))
	binary.BigEndian.PutUint64(buf[8:16], uint64(downloaded))
	return buf, nil
}

func decodeStats(key, val []byte) (uploaded, downloaded int64, err error) {
	if len(val) != statsLen {
		return 0, 0, fmt.Errorf("%w: stats %x: %d bytes, want %d", ErrCorrupt, key, len(val), statsLen)
	}
	uploaded = int64(binary.BigEndian.Uint64(val[0:8]))
	downloaded = int64(binary.BigEndian.Uint64(val[8:16]))
	if uploaded < 0 || downloaded < 0 {
		return 0, 0, fmt.Errorf("%w: stats %x: negative totals", ErrCorrupt, key)
	}
	return uploaded, downloaded, nil
}

// bucket returns a top-level bucket that Open guarantees to exist; a missing
// one means the file was damaged after Open.
func bucket(tx *bbolt.Tx, name []byte) (*bbolt.Bucket, error) {
	b := tx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("%w: bucket %q missing", ErrCorrupt, name)
	}
	return b, nil
}

// PutTorrent stores t, replacing any record with the same info hash, and sets
// its transfer totals to t.Uploaded and t.Downloaded. Existing resume data
// is kept.
func (s *Store) PutTorrent(t Torrent) error {
	val, err := encodeTorrent(t)
	if err != nil {
		return fmt.Errorf("store: put torrent %x: %w", t.InfoHash, err)
	}
	stats, err := encodeStats(t.Uploaded, t.Downloaded)
	if err != nil {
		return fmt.Errorf("store: put torrent %x: %w", t.InfoHash, err)
	}
	err = s.updateGrouped(func(tx *bbolt.Tx) error {
		tb, err := bucket(tx, bucketTorrents)
		if err != nil {
			return err
		}
		sb, err := bucket(tx, bucketStats)
		if err != nil {
			return err
		}
		if err := tb.Put(t.InfoHash[:], val); err != nil {
			return err
		}
		return sb.Put(t.InfoHash[:], stats)
	})
	if err != nil {
		return fmt.Errorf("store: put torrent %x: %w", t.InfoHash, err)
	}
	return nil
}

// PutTorrents stores many torrents as PutTorrent would each, in one
// transaction (one fsync for all of them), sharing it with other writes
// waiting for a commit. The answer has one error per torrent, nil for each
// one saved: a record that cannot be encoded (too large, inconsistent)
// fails alone, before anything is written, and a failed commit fails every
// torrent of it.
func (s *Store) PutTorrents(ts []Torrent) []error {
	errs := make([]error, len(ts))
	type enc struct{ val, stats []byte }
	vals := make([]enc, len(ts))
	ok := 0
	for i, t := range ts {
		var err error
		if vals[i].val, err = encodeTorrent(t); err == nil {
			vals[i].stats, err = encodeStats(t.Uploaded, t.Downloaded)
		}
		if err != nil {
			errs[i] = fmt.Errorf("store: put torrent %x: %w", t.InfoHash, err)
			continue
		}
		ok++
	}
	if ok == 0 {
		return errs
	}
	err := s.updateGrouped(func(tx *bbolt.Tx) error {
		tb, err := bucket(tx, bucketTorrents)
		if err != nil {
			return err
		}
		sb, err := bucket(tx, bucketStats)
		if err != nil {
			return err
		}
		for i, t := range ts {
			if errs[i] != nil {
				continue
			}
			if err := tb.Put(t.InfoHash[:], vals[i].val); err != nil {
				return err
			}
			if err := sb.Put(t.InfoHash[:], vals[i].stats); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for i, t := range ts {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("store: put torrent %x: %w", t.InfoHash, err)
			}
		}
	}
	return errs
}

// Torrent returns the torrent stored under infoHash, with its totals. ok is
// false if there is none; a damaged record gives an error wrapping
// ErrCorrupt.
func (s *Store) Torrent(infoHash [20]byte) (t Torrent, ok bool, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		tb, err := bucket(tx, bucketTorrents)
		if err != nil {
			return err
		}
		val := tb.Get(infoHash[:])
		if val == nil {
			return nil
		}
		ok = true
		t, err = readTorrent(tx, infoHash[:], val)
		return err
	})
	if err != nil {
		return Torrent{}, false, fmt.Errorf("store: torrent %x: %w", infoHash, err)
	}
	return t, ok, nil
}

// readTorrent decodes a torrent record and merges in its totals. A missing
// stats record means zero totals.
func readTorrent(tx *bbolt.Tx, key, val []byte) (Torrent, error) {
	t, err := decodeTorrent(key, val)
	if err != nil {
		return Torrent{}, err
	}
	if sb := tx.Bucket(bucketStats); sb != nil {
		if raw := sb.Get(key); raw != nil {
			if t.Uploaded, t.Downloaded, err = decodeStats(key, raw); err != nil {
				return Torrent{}, err
			}
		}
	}
	return t, nil
}

// RecordError describes one damaged record that Torrents skipped.
type RecordError struct {
	Key []byte // the record's key (normally an info hash)
	Err error  // wraps ErrCorrupt
}

// Error implements error.
func (e *RecordError) Error() string { return fmt.Sprintf("record %x: %v", e.Key, e.Err) }

// Unwrap returns the underlying error.
func (e *RecordError) Unwrap() error { return e.Err }

// CorruptRecordsError is returned by Torrents together with the torrents it
// could decode when some records are damaged. It wraps ErrCorrupt.
type CorruptRecordsError struct {
	Records []*RecordError
}

// Error implements error.
func (e *CorruptRecordsError) Error() string {
	msgs := make([]string, 0, len(e.Records))
	for _, r := range e.Records {
		msgs = append(msgs, r.Error())
	}
	return fmt.Sprintf("store: %d damaged torrent records skipped: %v", len(e.Records), msgs)
}

// Unwrap returns the per-record errors, so errors.Is(err, ErrCorrupt) holds.
func (e *CorruptRecordsError) Unwrap() []error {
	errs := make([]error, len(e.Records))
	for i, r := range e.Records {
		errs[i] = r
	}
	return errs
}

// Torrents returns every stored torrent, oldest AddedAt first (ties broken
// by info hash). A damaged record does not fail the call: it is skipped, and
// the good torrents come back together with a *CorruptRecordsError naming
// the bad keys (so callers should log such an error and carry on, and may
// DeleteTorrent the bad hashes). Any other error comes with a nil slice.
func (s *Store) Torrents() ([]Torrent, error) {
	var (
		list []Torrent
		bad  []*RecordError
	)
	err := s.view(func(tx *bbolt.Tx) error {
		tb, err := bucket(tx, bucketTorrents)
		if err != nil {
			return err
		}
		return tb.ForEach(func(k, v []byte) error {
			if v == nil {
				bad = append(bad, &RecordError{Key: bytes.Clone(k), Err: fmt.Errorf("%w: unexpected nested bucket", ErrCorrupt)})
				return nil
			}
			t, err := readTorrent(tx, k, v)
			if err != nil {
				bad = append(bad, &RecordError{Key: bytes.Clone(k), Err: err})
				return nil
			}
			list = append(list, t)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: list torrents: %w", err)
	}
	slices.SortFunc(list, func(a, b Torrent) int {
		if c := a.AddedAt.Compare(b.AddedAt); c != 0 {
			return c
		}
		return bytes.Compare(a.InfoHash[:], b.InfoHash[:])
	})
	if list == nil {
		list = []Torrent{}
	}
	if len(bad) > 0 {
		return list, &CorruptRecordsError{Records: bad}
	}
	return list, nil
}

// DeleteTorrent removes the torrent, its resume data and its totals.
// Deleting a torrent that is not stored is not an error.
func (s *Store) DeleteTorrent(infoHash [20]byte) error {
	err := s.update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketTorrents, bucketStats, bucketResume} {
			b, err := bucket(tx, name)
			if err != nil {
				return err
			}
			if err := b.Delete(infoHash[:]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete torrent %x: %w", infoHash, err)
	}
	return nil
}

// DeleteTorrents is DeleteTorrent for many torrents, in one transaction.
func (s *Store) DeleteTorrents(infoHashes [][20]byte) error {
	err := s.update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketTorrents, bucketStats, bucketResume} {
			b, err := bucket(tx, name)
			if err != nil {
				return err
			}
			for _, h := range infoHashes {
				if err := b.Delete(h[:]); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete %d torrents: %w", len(infoHashes), err)
	}
	return nil
}

// requireTorrent returns ErrNotFound unless infoHash has a torrent record.
func requireTorrent(tx *bbolt.Tx, infoHash [20]byte) error {
	tb, err := bucket(tx, bucketTorrents)
	if err != nil {
		return err
	}
	if tb.Get(infoHash[:]) == nil {
		return fmt.Errorf("torrent %x: %w", infoHash, ErrNotFound)
	}
	return nil
}

// PutResume records the torrent's verified pieces, replacing earlier resume
// data. The caller must guarantee that every piece marked in r.Bitfield is
// already durable on disk (written and fsynced) before calling: the store
// trusts this record at startup and will not re-verify those pieces unless a
// file's stamp changed. It returns an error wrapping ErrNotFound if the
// torrent is not stored (for example, deleted meanwhile), and rejects
// inconsistent data (bitfield length, spare bits, negative sizes).
func (s *Store) PutResume(infoHash [20]byte, r Resume) error {
	val, err := encodeResume(r)
	if err != nil {
		return fmt.Errorf("store: put resume %x: %w", infoHash, err)
	}
	err = s.update(func(tx *bbolt.Tx) error {
		if err := requireTorrent(tx, infoHash); err != nil {
			return err
		}
		b, err := bucket(tx, bucketResume)
		if err != nil {
			return err
		}
		return b.Put(infoHash[:], val)
	})
	if err != nil {
		return fmt.Errorf("store: put resume %x: %w", infoHash, err)
	}
	return nil
}

// Resume returns the torrent's resume data; ok is false if none was saved.
// A damaged record gives an error wrapping ErrCorrupt (treat it as "no
// resume data": recheck the files).
func (s *Store) Resume(infoHash [20]byte) (r Resume, ok bool, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketResume)
		if err != nil {
			return err
		}
		val := b.Get(infoHash[:])
		if val == nil {
			return nil
		}
		ok = true
		r, err = decodeResume(infoHash[:], val)
		return err
	})
	if err != nil {
		return Resume{}, false, fmt.Errorf("store: resume %x: %w", infoHash, err)
	}
	return r, ok, nil
}

// Resumes returns the resume data of every torrent that has some, read in
// one transaction (a restart needs them all; 10,000 transactions of one
// read each cost seconds). Damaged records are left out: their torrents
// are checked as if they had none.
func (s *Store) Resumes() (map[[20]byte]Resume, error) {
	out := make(map[[20]byte]Resume)
	err := s.view(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketResume)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 20 || v == nil {
				return nil
			}
			r, err := decodeResume(k, v)
			if err != nil {
				return nil
			}
			out[[20]byte(k)] = r
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: read resume data: %w", err)
	}
	return out, nil
}

// PutStats sets the torrent's all-time transfer totals without rewriting its
// record: one small write, but still one fsync, so call it every few tens of
// seconds rather than per block. It returns an error wrapping ErrNotFound if
// the torrent is not stored.
func (s *Store) PutStats(infoHash [20]byte, uploaded, downloaded int64) error {
	val, err := encodeStats(uploaded, downloaded)
	if err != nil {
		return fmt.Errorf("store: put stats %x: %w", infoHash, err)
	}
	err = s.update(func(tx *bbolt.Tx) error {
		if err := requireTorrent(tx, infoHash); err != nil {
			return err
		}
		b, err := bucket(tx, bucketStats)
		if err != nil {
			return err
		}
		return b.Put(infoHash[:], val)
	})
	if err != nil {
		return fmt.Errorf("store: put stats %x: %w", infoHash, err)
	}
	return nil
}

// Flush is one torrent's part of a PutFlush: its resume data, when
// Resume is set, and its transfer totals.
type Flush struct {
	InfoHash             [20]byte
	Resume               *Resume
	Uploaded, Downloaded int64
}

// PutFlush writes the resume data and totals of many torrents in one
// transaction (one fsync however many there are), with the guarantees of
// PutResume and PutStats for each. Torrents no longer stored (deleted
// meanwhile) are skipped. Inconsistent data fails the whole write, before
// anything is written.
func (s *Store) PutFlush(items []Flush) error {
	type enc struct{ resume, stats []byte }
	vals := make([]enc, len(items))
	for i, it := range items {
		var err error
		if it.Resume != nil {
			if vals[i].resume, err = encodeResume(*it.Resume); err != nil {
				return fmt.Errorf("store: put resume %x: %w", it.InfoHash, err)
			}
		}
		if vals[i].stats, err = encodeStats(it.Uploaded, it.Downloaded); err != nil {
			return fmt.Errorf("store: put stats %x: %w", it.InfoHash, err)
		}
	}
	err := s.update(func(tx *bbolt.Tx) error {
		tb, err := bucket(tx, bucketTorrents)
		if err != nil {
			return err
		}
		rb, err := bucket(tx, bucketResume)
		if err != nil {
			return err
		}
		sb, err := bucket(tx, bucketStats)
		if err != nil {
			return err
		}
		for i, it := range items {
			if tb.Get(it.InfoHash[:]) == nil {
				continue
			}
			if vals[i].resume != nil {
				if err := rb.Put(it.InfoHash[:], vals[i].resume); err != nil {
					return err
				}
			}
			if err := sb.Put(it.InfoHash[:], vals[i].stats); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: flush %d torrents: %w", len(items), err)
	}
	return nil
}

// PutSetting stores value, JSON-encoded, under key (1 to 256 bytes).
func (s *Store) PutSetting(key string, value any) error {
	if len(key) == 0 || len(key) > maxKeyLen {
		return fmt.Errorf("store: put setting: key length %d out of range [1, %d]", len(key), maxKeyLen)
	}
	val, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("store: put setting %q: encode: %w", key, err)
	}
	err = s.update(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketSettings)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), val)
	})
	if err != nil {
		return fmt.Errorf("store: put setting %q: %w", key, err)
	}
	return nil
}

// Setting decodes the setting stored under key into value, which must be a
// pointer as for json.Unmarshal. ok is false, and value untouched, if the
// key is not set; a value that does not decode gives an error wrapping
// ErrCorrupt.
func (s *Store) Setting(key string, value any) (ok bool, err error) {
	var raw []byte
	err = s.view(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketSettings)
		if err != nil {
			return err
		}
		if v := b.Get([]byte(key)); v != nil {
			raw = bytes.Clone(v) // decode outside the transaction
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: setting %q: %w", key, err)
	}
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, value); err != nil {
		var invalid *json.InvalidUnmarshalError
		if errors.As(err, &invalid) {
			return false, fmt.Errorf("store: setting %q: %w", key, err)
		}
		return false, fmt.Errorf("store: setting %q: %w: %v", key, ErrCorrupt, err)
	}
	return true, nil
}
