package session

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gobit/gobit/internal/store"
)

// Categories and tags.
//
// A category is a named group of torrents with its own save directory: a
// torrent added to it without a download directory of its own is saved
// there. A torrent is in at most one category. Tags are free-form labels, any
// number per torrent (up to store.MaxTags); a tag exists while a torrent
// carries it.
//
// Every change is committed before it is made in memory (durable.go). A
// change that touches several torrents (renaming or deleting a category or a
// tag) rewrites their records and the category in one transaction
// (store.ChangeLabels), holding each torrent's opMu meanwhile so that no
// other change of theirs is lost in between. Session.labelMu serializes the
// changes of categories and tags with each other and with assignments, so a
// torrent is never assigned a category that is being deleted. Lock order:
// labelMu, then the torrents' opMu (in info-hash order), then the store.

// Category is a named group of torrents with its own save directory.
type Category struct {
	// Name identifies the category: 1 to 128 bytes, no control
	// characters, commas or surrounding spaces.
	Name string `json:"name"`
	// SavePath is the absolute directory torrents added to the category
	// are saved in (unless the add names a directory).
	SavePath string `json:"save_path"`
}

// CategoryUpdate changes a category; nil fields are left alone. A new Name
// renames the category and moves every torrent in it to the new name (their
// files stay where they are).
type CategoryUpdate struct {
	Name     *string `json:"name"`
	SavePath *string `json:"save_path"`
}

// TagInfo is a tag and how many torrents carry it.
type TagInfo struct {
	Name     string `json:"name"`
	Torrents int    `json:"torrents"`
}

// labels are a torrent's category and tags as status reads them.
type labels struct {
	category string
	tags     []string
}

// setLabels publishes r's category and tags for status reads.
func (e *entry) setLabels(r *store.Torrent) {
	e.lab.Store(&labels{category: r.Category, tags: slices.Clone(r.Tags)})
}

// labelsOf returns e's category and tags (tags never nil).
func (e *entry) labelsOf() (string, []string) {
	l := e.lab.Load()
	if l == nil || l.tags == nil {
		if l == nil {
			return "", []string{}
		}
		return l.category, []string{}
	}
	return l.category, slices.Clone(l.tags)
}

// labelNotFound is the error for a category or tag that does not exist; it
// matches ErrNotFound.
type labelNotFound struct{ kind, name string }

func (e *labelNotFound) Error() string        { return fmt.Sprintf("%s %q not found", e.kind, e.name) }
func (e *labelNotFound) Is(target error) bool { return target == ErrNotFound }

// labelExists is the error for creating a category that exists; it matches
// ErrExists.
type labelExists struct{ kind, name string }

func (e *labelExists) Error() string        { return fmt.Sprintf("%s %q already exists", e.kind, e.name) }
func (e *labelExists) Is(target error) bool { return target == ErrExists }

// checkLabel validates a category or tag name as bad input.
func checkLabel(kind, name string) error {
	if err := store.CheckLabel(kind, name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// normalizeTags validates tags and drops duplicates, keeping the first
// occurrence's order.
func normalizeTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if err := checkLabel("tag", t); err != nil {
			return nil, err
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > store.MaxTags {
		return nil, fmt.Errorf("%w: %d tags, max %d", ErrInvalid, len(out), store.MaxTags)
	}
	return out, nil
}

// checkSavePath validates and cleans a category's save path.
func checkSavePath(p string) (string, error) {
	switch {
	case strings.TrimSpace(p) == "":
		return "", fmt.Errorf("%w: save_path is empty", ErrInvalid)
	case strings.ContainsRune(p, 0):
		return "", fmt.Errorf("%w: save_path contains a NUL byte", ErrInvalid)
	case !filepath.IsAbs(p):
		return "", fmt.Errorf("%w: save_path %q is not an absolute path", ErrInvalid, truncate(p, 200))
	}
	return filepath.Clean(p), nil
}

// loadCategories reads the saved categories; called once by openStore.
func (s *Session) loadCategories() {
	cats, err := s.db.Categories()
	if err != nil {
		s.log.Warn("ignoring unreadable saved categories", "err", err)
		return
	}
	s.cats = make(map[string]string, len(cats))
	for _, c := range cats {
		s.cats[c.Name] = c.SavePath
	}
}

// Categories returns every category, sorted by name (never nil).
func (s *Session) Categories() []Category {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Category, 0, len(s.cats))
	for n, p := range s.cats {
		out = append(out, Category{Name: n, SavePath: p})
	}
	slices.SortFunc(out, func(a, b Category) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// category returns the save path of the category name.
func (s *Session) category(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.cats[name]
	return p, ok
}

// AddCategory creates a category. It fails with ErrExists if one of that
// name exists and with ErrInvalid for a bad name or a relative save path.
func (s *Session) AddCategory(c Category) (Category, error) {
	if err := checkLabel("category", c.Name); err != nil {
		return Category{}, err
	}
	p, err := checkSavePath(c.SavePath)
	if err != nil {
		return Category{}, err
	}
	c.SavePath = p
	s.labelMu.Lock()
	defer s.labelMu.Unlock()
	if _, ok := s.category(c.Name); ok {
		return Category{}, &labelExists{"category", c.Name}
	}
	if s.db != nil {
		put := store.Category(c)
		if err := s.db.ChangeLabels(store.LabelChange{Put: &put}); err != nil {
			return Category{}, saveErr("category not created", err)
		}
	}
	s.mu.Lock()
	if s.cats == nil {
		s.cats = make(map[string]string)
	}
	s.cats[c.Name] = c.SavePath
	s.mu.Unlock()
	s.log.Info("category created", "category", c.Name, "save_path", c.SavePath)
	return c, nil
}

// UpdateCategory renames a category and/or changes its save path. Renaming
// moves its torrents to the new name; renaming onto an existing category
// fails with ErrExists. The files of torrents already added stay where they
// are: the save path applies to torrents added afterwards.
func (s *Session) UpdateCategory(name string, u CategoryUpdate) (Category, error) {
	s.labelMu.Lock()
	defer s.labelMu.Unlock()
	old, ok := s.category(name)
	if !ok {
		return Category{}, &labelNotFound{"category", name}
	}
	next := Category{Name: name, SavePath: old}
	if u.Name != nil {
		if err := checkLabel("category", *u.Name); err != nil {
			return Category{}, err
		}
		next.Name = *u.Name
	}
	if u.SavePath != nil {
		p, err := checkSavePath(*u.SavePath)
		if err != nil {
			return Category{}, err
		}
		next.SavePath = p
	}
	renamed := next.Name != name
	if renamed {
		if _, ok := s.category(next.Name); ok {
			return Category{}, &labelExists{"category", next.Name}
		}
	}
	put := store.Category(next)
	lc := store.LabelChange{Put: &put}
	if renamed {
		lc.Delete = name
	}
	match := func(e *entry) bool { return renamed && e.rec.Category == name }
	edit := func(r *store.Torrent) { r.Category = next.Name }
	err := s.relabel("category not changed", lc, match, edit, func() {
		delete(s.cats, name)
		s.cats[next.Name] = next.SavePath
	})
	if err != nil {
		return Category{}, err
	}
	s.log.Info("category changed", "category", name, "name", next.Name, "save_path", next.SavePath)
	return next, nil
}

// RemoveCategory deletes a category; its torrents are left without one
// (their files stay where they are).
func (s *Session) RemoveCategory(name string) error {
	s.labelMu.Lock()
	defer s.labelMu.Unlock()
	if _, ok := s.category(name); !ok {
		return &labelNotFound{"category", name}
	}
	match := func(e *entry) bool { return e.rec.Category == name }
	edit := func(r *store.Torrent) { r.Category = "" }
	err := s.relabel("category not deleted", store.LabelChange{Delete: name}, match, edit, func() {
		delete(s.cats, name)
	})
	if err == nil {
		s.log.Info("category deleted", "category", name)
	}
	return err
}

// Tags returns every tag some torrent carries, sorted by name, with the
// number of torrents carrying it (never nil).
func (s *Session) Tags() []TagInfo {
	s.mu.Lock()
	counts := map[string]int{}
	for _, e := range s.torrents {
		for _, t := range e.rec.Tags {
			counts[t]++
		}
	}
	s.mu.Unlock()
	out := make([]TagInfo, 0, len(counts))
	for n, c := range counts {
		out = append(out, TagInfo{Name: n, Torrents: c})
	}
	slices.SortFunc(out, func(a, b TagInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// RenameTag renames a tag on every torrent carrying it; a torrent that
// already has the new tag keeps it once. It fails with ErrNotFound when no
// torrent carries the tag.
func (s *Session) RenameTag(name, to string) error {
	if err := checkLabel("tag", to); err != nil {
		return err
	}
	return s.retag(name, "tag not renamed", func(tags []string) []string {
		out := make([]string, 0, len(tags))
		for _, t := range tags {
			if t == name {
				t = to
			}
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
		return out
	})
}

// RemoveTag removes a tag from every torrent carrying it. It fails with
// ErrNotFound when no torrent carries the tag.
func (s *Session) RemoveTag(name string) error {
	return s.retag(name, "tag not deleted", func(tags []string) []string {
		return slices.DeleteFunc(slices.Clone(tags), func(t string) bool { return t == name })
	})
}

// retag rewrites the tags of every torrent carrying name with edit.
func (s *Session) retag(name, op string, edit func([]string) []string) error {
	s.labelMu.Lock()
	defer s.labelMu.Unlock()
	found := false
	match := func(e *entry) bool {
		if slices.Contains(e.rec.Tags, name) {
			found = true
			return true
		}
		return false
	}
	err := s.relabel(op, store.LabelChange{}, match, func(r *store.Torrent) { r.Tags = edit(r.Tags) }, nil)
	if err != nil {
		return err
	}
	if !found {
		return &labelNotFound{"tag", name}
	}
	return nil
}

// relabel commits lc together with the records of every torrent match
// selects, edited by edit, then makes the change in memory: each torrent's
// record and labels, and mem (run under s.mu; nil for none) for the
// category map. The caller holds labelMu. match runs under s.mu.
func (s *Session) relabel(op string, lc store.LabelChange, match func(*entry) bool, edit func(*store.Torrent), mem func()) error {
	s.mu.Lock()
	var es []*entry
	for _, e := range s.torrents {
		if match(e) {
			es = append(es, e)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(es, func(a, b *entry) int {
		ha, hb := a.t.InfoHash(), b.t.InfoHash()
		return bytes.Compare(ha[:], hb[:])
	})
	for _, e := range es {
		e.opMu.Lock()
		defer e.opMu.Unlock()
	}
	es = slices.DeleteFunc(es, func(e *entry) bool { return e.removed })
	recs := make([]store.Torrent, len(es))
	s.mu.Lock()
	for i, e := range es {
		recs[i] = s.record(e)
		edit(&recs[i])
	}
	s.mu.Unlock()
	if s.db != nil && (lc.Delete != "" || lc.Put != nil || len(recs) > 0) {
		lc.Torrents = recs
		if err := s.db.ChangeLabels(lc); err != nil {
			s.log.Error(op+": cannot save the change", "err", err)
			return saveErr(op, err)
		}
	}
	s.mu.Lock()
	for i, e := range es {
		e.rec = recs[i]
		e.setLabels(&recs[i])
	}
	if mem != nil {
		if s.cats == nil {
			s.cats = make(map[string]string)
		}
		mem()
	}
	s.mu.Unlock()
	return nil
}

// addLabels checks the category and tags of an add. It returns the
// directory to save in (the request's, else the category's, else ""). The
// caller holds labelMu when a category is named, and keeps it until the
// torrent is saved, so the category cannot be deleted meanwhile.
func (s *Session) addLabels(req *AddRequest) (dir string, err error) {
	tags, err := normalizeTags(req.Tags)
	if err != nil {
		return "", err
	}
	req.Tags = tags
	if req.Category == "" {
		return req.DownloadDir, nil
	}
	p, ok := s.category(req.Category)
	if !ok {
		return "", fmt.Errorf("%w: category %q does not exist (create it first)", ErrInvalid, req.Category)
	}
	dir = req.DownloadDir
	if dir == "" {
		dir = p
	}
	return dir, nil
}

// touchesLabels reports whether u changes the category or tags.
func (u TorrentUpdate) touchesLabels() bool {
	return u.Category != nil || u.Tags != nil || len(u.AddTags) > 0 || len(u.RemoveTags) > 0
}

// labelEdit returns how u changes e's category and tags, or nil when it
// does not touch them. It checks the category exists and computes the new
// tags from e's current ones; the caller holds labelMu, so neither changes
// until the edit is committed.
func (s *Session) labelEdit(e *entry, u TorrentUpdate) (func(*store.Torrent), error) {
	if !u.touchesLabels() {
		return nil, nil
	}
	if u.Category != nil && *u.Category != "" {
		if err := checkLabel("category", *u.Category); err != nil {
			return nil, err
		}
		if _, ok := s.category(*u.Category); !ok {
			return nil, fmt.Errorf("%w: category %q does not exist (create it first)", ErrInvalid, *u.Category)
		}
	}
	for _, t := range u.RemoveTags {
		if err := checkLabel("tag", t); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	tags := slices.Clone(e.rec.Tags)
	s.mu.Unlock()
	if u.Tags != nil {
		tags = slices.Clone(*u.Tags)
	}
	tags = append(tags, u.AddTags...)
	tags = slices.DeleteFunc(tags, func(t string) bool { return slices.Contains(u.RemoveTags, t) })
	tags, err := normalizeTags(tags)
	if err != nil {
		return nil, err
	}
	return func(r *store.Torrent) {
		if u.Category != nil {
			r.Category = *u.Category
		}
		r.Tags = tags
	}, nil
}

// Match reports whether a torrent's status passes the filter.
func (f ListFilter) Match(st Status) bool {
	if f.Category != nil && st.Category != *f.Category {
		return false
	}
	for _, t := range f.Tags {
		if !slices.Contains(st.Tags, t) {
			return false
		}
	}
	return true
}

// ListFilter selects torrents by category and tags.
type ListFilter struct {
	// Category, when not nil, selects the torrents of that category ("":
	// those in none).
	Category *string
	// Tags selects the torrents carrying every one of them.
	Tags []string
}

// ListFiltered returns the status of the torrents f selects, in queue
// order.
func (s *Session) ListFiltered(f ListFilter) []Status {
	all := s.List()
	out := all[:0]
	for _, st := range all {
		if f.Match(st) {
			out = append(out, st)
		}
	}
	return out
}
