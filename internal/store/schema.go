package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
)

// SchemaVersion is the layout version this gobit writes. Opening a database
// with a lower version runs migrations; a higher one gives ErrNewerSchema.
const SchemaVersion = 2

// Bucket and key names.
var (
	bucketMeta     = []byte("meta")
	bucketTorrents = []byte("torrents")
	bucketStats    = []byte("stats")
	bucketResume   = []byte("resume")
	bucketSettings = []byte("settings")
	bucketDHT      = []byte("dht")
	// bucketCategories (schema version 2) maps a category's name to its
	// JSON categoryRecord.
	bucketCategories = []byte("categories")

	keySchemaVersion = []byte("schema_version")
)

// v1Buckets lists every top-level bucket schema version 1 defines.
var v1Buckets = [][]byte{bucketMeta, bucketTorrents, bucketStats, bucketResume, bucketSettings, bucketDHT}

// allBuckets lists every top-level bucket of the current schema.
var allBuckets = append(append([][]byte{}, v1Buckets...), bucketCategories)

// migrations[v] upgrades a database from schema version v to v+1, inside the
// same write transaction that then records the new version. Version 0 is "no
// gobit data yet", so 0 → 1 creates the buckets and every new database goes
// through the mechanism. The current version is len(migrations); tests
// append to it to exercise the machinery.
var migrations = []func(tx *bbolt.Tx) error{
	0: migrateCreateBuckets,
	1: migrateAddCategories,
}

// currentVersion is the schema version Open brings a database to.
func currentVersion() uint64 { return uint64(len(migrations)) }

// migrateCreateBuckets is migration 0 → 1: create the version-1 buckets.
func migrateCreateBuckets(tx *bbolt.Tx) error {
	for _, name := range v1Buckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// migrateAddCategories is migration 1 → 2: create the categories bucket.
func migrateAddCategories(tx *bbolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(bucketCategories); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketCategories, err)
	}
	return nil
}

// init checks the database's structure and schema version and runs any
// migrations. It is called once by Open before the Store is shared.
func (s *Store) init() error {
	// bbolt's own consistency check. On a read transaction with no writer
	// running (true during Open) it is cheap: one pass over the pages.
	err := s.view(func(tx *bbolt.Tx) error {
		var errs []error
		for e := range tx.Check() {
			if len(errs) < 5 {
				errs = append(errs, e)
			}
		}
		if len(errs) > 0 {
			return corruptf(s.path, "consistency check: %v", errors.Join(errs...))
		}
		return nil
	})
	if err != nil {
		return err
	}

	var version uint64
	err = s.view(func(tx *bbolt.Tx) error {
		v, err := readVersion(tx)
		if err != nil {
			return corruptf(s.path, "%v", err)
		}
		version = v
		return nil
	})
	if err != nil {
		return err
	}
	if version > currentVersion() {
		return fmt.Errorf("store: %s: %w (schema version %d, this gobit understands up to %d)",
			s.path, ErrNewerSchema, version, currentVersion())
	}
	if version == currentVersion() {
		return nil
	}
	err = s.update(func(tx *bbolt.Tx) error {
		// Re-read inside the write transaction: the decision must hold
		// for the data being changed.
		v, err := readVersion(tx)
		if err != nil {
			return corruptf(s.path, "%v", err)
		}
		for ; v < currentVersion(); v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("store: %s: migrate schema %d → %d: %w", s.path, v, v+1, err)
			}
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("store: %s: meta bucket: %w", s.path, err)
		}
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], currentVersion())
		if err := meta.Put(keySchemaVersion, buf[:]); err != nil {
			return fmt.Errorf("store: %s: write schema version: %w", s.path, err)
		}
		return nil
	})
	return err
}

// readVersion returns the schema version recorded in tx, 0 for a database
// with no gobit data. A database with foreign buckets and no meta bucket is
// not gobit's and is refused rather than written into.
func readVersion(tx *bbolt.Tx) (uint64, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		var foreign []string
		_ = tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			if !isOurBucket(name) {
				foreign = append(foreign, fmt.Sprintf("%q", name))
			}
			return nil
		})
		if len(foreign) > 0 {
			return 0, fmt.Errorf("not a gobit database: no meta bucket, unknown buckets %v", foreign)
		}
		return 0, nil
	}
	raw := meta.Get(keySchemaVersion)
	if raw == nil {
		return 0, nil
	}
	if len(raw) != 8 {
		return 0, fmt.Errorf("schema version is %d bytes, want 8", len(raw))
	}
	return binary.BigEndian.Uint64(raw), nil
}

func isOurBucket(name []byte) bool {
	for _, b := range allBuckets {
		if string(b) == string(name) {
			return true
		}
	}
	return false
}
