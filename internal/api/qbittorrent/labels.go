package qbittorrent

import (
	"errors"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gobit/gobit/internal/session"
)

// Categories and tags. A qBittorrent category's savePath may be empty or
// relative (to the default save path); gobit's are absolute, so those are
// resolved against Options.DefaultSavePath. Tags in gobit exist while a
// torrent carries them; the handler remembers the ones createTags made
// until a torrent carries them or deleteTags removes them (not across
// restarts).

// maxExtraTags bounds the tags remembered without a torrent.
const maxExtraTags = 1000

// categoryPath resolves a category's savePath as qBittorrent does.
func (h *Handler) categoryPath(name, p string) string {
	p = strings.TrimSpace(p)
	switch {
	case p == "":
		return filepath.Join(h.opts.DefaultSavePath, name)
	case filepath.IsAbs(p):
		return p
	}
	return filepath.Join(h.opts.DefaultSavePath, p)
}

// categoryMap is the categories as qBittorrent lists them.
func (h *Handler) categoryMap() map[string]any {
	out := map[string]any{}
	for _, c := range h.sess.Categories() {
		out[c.Name] = map[string]any{"name": c.Name, "savePath": c.SavePath}
	}
	return out
}

// tagList is every tag: those torrents carry and those created empty.
func (h *Handler) tagList() []string {
	set := map[string]struct{}{}
	for _, t := range h.sess.Tags() {
		set[t.Name] = struct{}{}
	}
	h.mu.Lock()
	maps.Copy(set, h.extraTag)
	h.mu.Unlock()
	return slices.Sorted(maps.Keys(set))
}

func (h *Handler) categories(w http.ResponseWriter, _ *http.Request, _ *form) {
	writeJSON(w, h.categoryMap())
}

func (h *Handler) tags(w http.ResponseWriter, _ *http.Request, _ *form) {
	writeJSON(w, h.tagList())
}

// hasCategory reports whether a category exists.
func (h *Handler) hasCategory(name string) bool {
	return slices.ContainsFunc(h.sess.Categories(), func(c session.Category) bool { return c.Name == name })
}

func (h *Handler) createCategory(w http.ResponseWriter, _ *http.Request, f *form) {
	name := f.get("category")
	if strings.TrimSpace(name) == "" {
		text(w, http.StatusBadRequest, "Invalid category name")
		return
	}
	_, err := h.sess.AddCategory(session.Category{Name: name, SavePath: h.categoryPath(name, f.get("savePath"))})
	switch {
	case errors.Is(err, session.ErrExists):
		text(w, http.StatusConflict, "Unable to create category")
	case errors.Is(err, session.ErrInvalid):
		text(w, http.StatusBadRequest, "Invalid category name")
	case err != nil:
		sessionError(w, err)
	default:
		answerOK(w)
	}
}

func (h *Handler) editCategory(w http.ResponseWriter, _ *http.Request, f *form) {
	name := f.get("category")
	if strings.TrimSpace(name) == "" {
		text(w, http.StatusBadRequest, "Invalid category name")
		return
	}
	p := h.categoryPath(name, f.get("savePath"))
	_, err := h.sess.UpdateCategory(name, session.CategoryUpdate{SavePath: &p})
	switch {
	case errors.Is(err, session.ErrNotFound):
		text(w, http.StatusConflict, "Unable to edit category")
	case err != nil:
		sessionError(w, err)
	default:
		answerOK(w)
	}
}

func (h *Handler) removeCategories(w http.ResponseWriter, _ *http.Request, f *form) {
	for _, name := range f.list("categories", "\n") {
		if err := h.sess.RemoveCategory(name); err != nil && !errors.Is(err, session.ErrNotFound) && !errors.Is(err, session.ErrInvalid) {
			sessionError(w, err)
			return
		}
	}
	answerOK(w)
}

// setCategory files the torrents under a category ("" for none); the
// category must exist (409, as qBittorrent answers).
func (h *Handler) setCategory(w http.ResponseWriter, _ *http.Request, f *form) {
	if !f.has("category") {
		text(w, http.StatusBadRequest, "Bad Request")
		return
	}
	name := f.get("category")
	if name != "" && !h.hasCategory(name) {
		text(w, http.StatusConflict, "Incorrect category name")
		return
	}
	h.each(w, f, func(hash string) error {
		_, err := h.sess.UpdateTorrent(hash, session.TorrentUpdate{Category: &name})
		return err
	})
}

// tagParam reads the comma-separated tags parameter.
func tagParam(f *form) []string { return slices.Compact(f.list("tags", ",")) }

func (h *Handler) addTags(w http.ResponseWriter, _ *http.Request, f *form) {
	tags := tagParam(f)
	if len(tags) == 0 {
		text(w, http.StatusBadRequest, "Bad Request")
		return
	}
	h.each(w, f, func(hash string) error {
		_, err := h.sess.UpdateTorrent(hash, session.TorrentUpdate{AddTags: tags})
		return err
	})
}

func (h *Handler) removeTags(w http.ResponseWriter, _ *http.Request, f *form) {
	tags := tagParam(f)
	if len(tags) == 0 {
		// qBittorrent removes every tag of the torrents.
		none := []string{}
		h.each(w, f, func(hash string) error {
			_, err := h.sess.UpdateTorrent(hash, session.TorrentUpdate{Tags: &none})
			return err
		})
		return
	}
	h.each(w, f, func(hash string) error {
		_, err := h.sess.UpdateTorrent(hash, session.TorrentUpdate{RemoveTags: tags})
		return err
	})
}

// createTags remembers tags no torrent carries yet. Names gobit would
// refuse on a torrent are skipped, as qBittorrent skips invalid ones.
func (h *Handler) createTags(w http.ResponseWriter, _ *http.Request, f *form) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range tagParam(f) {
		if len(h.extraTag) >= maxExtraTags {
			break
		}
		if validTag(t) {
			h.extraTag[t] = struct{}{}
		}
	}
	answerOK(w)
}

// validTag mirrors the session's rule for tag names: 1 to 128 bytes, no
// control characters or commas.
func validTag(t string) bool {
	if t == "" || len(t) > 128 || strings.TrimSpace(t) != t {
		return false
	}
	return !strings.ContainsFunc(t, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ',' })
}

// deleteTags removes tags from every torrent and from the created ones.
func (h *Handler) deleteTags(w http.ResponseWriter, _ *http.Request, f *form) {
	for _, t := range tagParam(f) {
		h.mu.Lock()
		delete(h.extraTag, t)
		h.mu.Unlock()
		if err := h.sess.RemoveTag(t); err != nil && !errors.Is(err, session.ErrNotFound) && !errors.Is(err, session.ErrInvalid) {
			sessionError(w, err)
			return
		}
	}
	answerOK(w)
}
