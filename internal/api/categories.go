package api

import (
	"net/http"
	"strings"

	"github.com/gobit/gobit/internal/session"
)

// Organizer is what the category, tag and queue routes need from a
// backend besides Backend. *session.Session satisfies it; NewHandler
// serves those routes only for a backend that implements it (others answer
// 404), so test fakes need not.
type Organizer interface {
	// Categories returns every category, sorted by name.
	Categories() []session.Category
	// AddCategory creates a category.
	AddCategory(c session.Category) (session.Category, error)
	// UpdateCategory renames a category or changes its save path.
	UpdateCategory(name string, u session.CategoryUpdate) (session.Category, error)
	// RemoveCategory deletes a category; its torrents are left in none.
	RemoveCategory(name string) error
	// Tags returns every tag in use with its torrent count.
	Tags() []session.TagInfo
	// RenameTag renames a tag on every torrent carrying it.
	RenameTag(name, to string) error
	// RemoveTag takes a tag off every torrent carrying it.
	RemoveTag(name string) error
	// MoveInQueue moves a torrent to the top or bottom of the queue, or one
	// place up or down.
	MoveInQueue(infoHash string, move session.QueueMove) error
	// ForceStart starts a torrent whatever the queue limits.
	ForceStart(infoHash string) error
}

var _ Organizer = (*session.Session)(nil)

// TagRenameBody is the JSON body of PATCH /api/v1/tags/{name}.
type TagRenameBody struct {
	// Name is the tag's new name.
	Name string `json:"name"`
}

// registerOrganizer adds the category, tag and queue routes when the
// backend implements Organizer.
func (h *handler) registerOrganizer(mux *http.ServeMux) {
	o, ok := h.b.(Organizer)
	if !ok {
		return
	}
	mux.HandleFunc("GET /api/v1/categories", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, o.Categories())
	})
	mux.HandleFunc("POST /api/v1/categories", func(w http.ResponseWriter, r *http.Request) {
		var c session.Category
		if err := decodeJSONBody(r, &c); err != nil {
			h.fail(w, r, err)
			return
		}
		if err := checkDir("save_path", c.SavePath); err != nil {
			h.fail(w, r, err)
			return
		}
		c, err := o.AddCategory(c)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, c)
	})
	mux.HandleFunc("PATCH /api/v1/categories/{name}", func(w http.ResponseWriter, r *http.Request) {
		var u session.CategoryUpdate
		if err := decodeJSONBody(r, &u); err != nil {
			h.fail(w, r, err)
			return
		}
		if u.SavePath != nil {
			if err := checkDir("save_path", *u.SavePath); err != nil {
				h.fail(w, r, err)
				return
			}
		}
		c, err := o.UpdateCategory(r.PathValue("name"), u)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	})
	mux.HandleFunc("DELETE /api/v1/categories/{name}", func(w http.ResponseWriter, r *http.Request) {
		if err := o.RemoveCategory(r.PathValue("name")); err != nil {
			h.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /api/v1/tags", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, o.Tags())
	})
	mux.HandleFunc("PATCH /api/v1/tags/{name}", func(w http.ResponseWriter, r *http.Request) {
		var body TagRenameBody
		if err := decodeJSONBody(r, &body); err != nil {
			h.fail(w, r, err)
			return
		}
		if err := o.RenameTag(r.PathValue("name"), body.Name); err != nil {
			h.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /api/v1/tags/{name}", func(w http.ResponseWriter, r *http.Request) {
		if err := o.RemoveTag(r.PathValue("name")); err != nil {
			h.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	h.registerQueue(mux, o)
}

// listFilter parses the torrent list's filters: category=X (present but
// empty: torrents in no category) and tag=Y (repeatable, or
// comma-separated; a torrent must carry every tag).
func listFilter(r *http.Request) (session.ListFilter, bool) {
	q := r.URL.Query()
	var f session.ListFilter
	if vs, ok := q["category"]; ok && len(vs) > 0 {
		c := vs[0]
		f.Category = &c
	}
	for _, v := range q["tag"] {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				f.Tags = append(f.Tags, t)
			}
		}
	}
	return f, f.Category != nil || len(f.Tags) > 0
}

// filterList keeps the torrents of l the request's filters select.
// It filters in place (l is the caller's own slice; the Status values it
// points to are shared and left alone) and never returns nil.
func filterList(r *http.Request, l []*session.Status) []*session.Status {
	if l == nil {
		return []*session.Status{}
	}
	f, ok := listFilter(r)
	if !ok {
		return l
	}
	out := l[:0]
	for _, st := range l {
		if f.Match(*st) {
			out = append(out, st)
		}
	}
	return out
}
