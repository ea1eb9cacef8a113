package store

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.etcd.io/bbolt"
)

// Bounds on categories and tags.
const (
	// MaxLabelLen is the longest category or tag name, in bytes.
	MaxLabelLen = 128
	// MaxTags is the most tags one torrent may carry.
	MaxTags = 64
	// MaxCategories is the most categories a database may hold.
	MaxCategories = 1 << 12
)

// Category is a named group of torrents with its own save directory.
type Category struct {
	Name     string
	SavePath string // absolute; torrents added to the category go there
}

// categoryRecord is a category's on-disk form (its name is the key).
type categoryRecord struct {
	SavePath string `json:"save_path"`
}

// CheckLabel validates a category or tag name (kind names it in the
// error): 1 to MaxLabelLen bytes of UTF-8 with no control characters, no
// leading or trailing space, and no comma (the CLI and the API's filters
// use commas to separate tags).
func CheckLabel(kind, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%s name is empty", kind)
	case len(name) > MaxLabelLen:
		return fmt.Errorf("%s name is %d bytes, max %d", kind, len(name), MaxLabelLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%s name is not valid UTF-8", kind)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("%s name %q starts or ends with a space", kind, name)
	case strings.ContainsRune(name, ','):
		return fmt.Errorf("%s name %q contains a comma", kind, name)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s name %q contains a control character", kind, name)
		}
	}
	return nil
}

// CheckTags validates a torrent's tags: at most MaxTags, each a valid
// label, no duplicates.
func CheckTags(tags []string) error {
	if len(tags) > MaxTags {
		return fmt.Errorf("%d tags, max %d", len(tags), MaxTags)
	}
	for i, t := range tags {
		if err := CheckLabel("tag", t); err != nil {
			return err
		}
		if slices.Contains(tags[:i], t) {
			return fmt.Errorf("tag %q given twice", t)
		}
	}
	return nil
}

// saneLabels drops an invalid category and the invalid, duplicate or
// surplus tags of a decoded record.
func saneLabels(category string, tags []string) (string, []string) {
	if category != "" && CheckLabel("category", category) != nil {
		category = ""
	}
	var out []string
	for _, t := range tags {
		if len(out) < MaxTags && CheckLabel("tag", t) == nil && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return category, out
}

// checkCategory validates a whole category.
func checkCategory(c Category) error {
	if err := CheckLabel("category", c.Name); err != nil {
		return err
	}
	if c.SavePath == "" || !filepath.IsAbs(c.SavePath) {
		return fmt.Errorf("category %q: save path %q is not absolute", c.Name, c.SavePath)
	}
	if len(c.SavePath) > maxStringLen {
		return fmt.Errorf("category %q: save path too long", c.Name)
	}
	return nil
}

// Categories returns every stored category, sorted by name. A damaged
// record fails the call with an error wrapping ErrCorrupt naming it.
func (s *Store) Categories() ([]Category, error) {
	var out []Category
	err := s.view(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketCategories)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				return fmt.Errorf("%w: category %q is a nested bucket", ErrCorrupt, k)
			}
			var r categoryRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("%w: category %q: %v", ErrCorrupt, k, err)
			}
			c := Category{Name: string(k), SavePath: r.SavePath}
			if err := checkCategory(c); err != nil {
				return fmt.Errorf("%w: %v", ErrCorrupt, err)
			}
			out = append(out, c)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: list categories: %w", err)
	}
	slices.SortFunc(out, func(a, b Category) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// LabelChange is one atomic change of the categories and of the torrent
// records that refer to them: Delete (when not "") is removed first, then
// Put (when not nil) is stored, then each of Torrents is rewritten (its
// transfer totals and resume data are left alone). A rename is Delete of
// the old name, Put of the new one, and the records of its torrents.
type LabelChange struct {
	Delete   string
	Put      *Category
	Torrents []Torrent
}

// ChangeLabels applies c in one transaction: all of it or none. Every
// torrent in c.Torrents must already be stored (else ErrNotFound), and
// every category named by a torrent of c.Torrents must exist once the
// change is made (else the error names it). Put of a new category fails
// when MaxCategories exist.
func (s *Store) ChangeLabels(c LabelChange) error {
	if c.Put != nil {
		if err := checkCategory(*c.Put); err != nil {
			return fmt.Errorf("store: change categories: %w", err)
		}
	}
	recs := make([][]byte, len(c.Torrents))
	for i, t := range c.Torrents {
		val, err := encodeTorrent(t)
		if err != nil {
			return fmt.Errorf("store: change categories: torrent %x: %w", t.InfoHash, err)
		}
		recs[i] = val
	}
	err := s.update(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketCategories)
		if err != nil {
			return err
		}
		if c.Delete != "" {
			if err := b.Delete([]byte(c.Delete)); err != nil {
				return err
			}
		}
		if c.Put != nil {
			key := []byte(c.Put.Name)
			if b.Get(key) == nil && b.Stats().KeyN >= MaxCategories {
				return fmt.Errorf("%d categories already, max %d", MaxCategories, MaxCategories)
			}
			val, err := json.Marshal(categoryRecord{SavePath: c.Put.SavePath})
			if err != nil {
				return err
			}
			if err := b.Put(key, val); err != nil {
				return err
			}
		}
		tb, err := bucket(tx, bucketTorrents)
		if err != nil {
			return err
		}
		for i, t := range c.Torrents {
			if err := requireTorrent(tx, t.InfoHash); err != nil {
				return err
			}
			if t.Category != "" && b.Get([]byte(t.Category)) == nil {
				return fmt.Errorf("torrent %x: category %q: %w", t.InfoHash, t.Category, ErrNotFound)
			}
			if err := tb.Put(t.InfoHash[:], recs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: change categories: %w", err)
	}
	return nil
}

// hasCategory reports whether name is stored (used by tests).
func (s *Store) hasCategory(name string) bool {
	found := false
	_ = s.view(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketCategories); b != nil {
			found = b.Get([]byte(name)) != nil
		}
		return nil
	})
	return found
}
