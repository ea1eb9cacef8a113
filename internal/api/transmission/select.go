package transmission

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gobit/gobit/internal/session"
)

// view is one torrent as a call sees it.
type view struct {
	id  int
	st  *session.Status // shared: read only
	rec record
}

// snapshot observes the session and returns every torrent, by id.
func (h *Handler) snapshot() ([]view, time.Time) {
	now := time.Now()
	list := h.b.ListShared()
	recs := h.ids.observe(list, now)
	out := make([]view, len(list))
	for i, st := range list {
		out[i] = view{id: recs[i].id, st: st, rec: recs[i]}
	}
	slices.SortFunc(out, func(a, b view) int { return a.id - b.id })
	return out, now
}

// selected returns the torrents a call's ids name, by id. Ids that name no
// torrent are skipped, as Transmission does.
func (h *Handler) selected(r *request) ([]view, idSet, time.Time, *rpcError) {
	set, err := r.args.ids()
	if err != nil {
		return nil, set, time.Time{}, err
	}
	all, now := h.snapshot()
	if set.all {
		return all, set, now, nil
	}
	var out []view
	for _, v := range all {
		switch {
		case set.recentlyActive:
			if now.Sub(v.rec.changed) <= recentWindow || v.st.DownloadRate > 0 || v.st.UploadRate > 0 {
				out = append(out, v)
			}
		case slices.Contains(set.nums, v.id) || slices.Contains(set.hashes, v.st.InfoHash):
			out = append(out, v)
		}
	}
	return out, set, now, nil
}

// sessErr turns a session error into a call's error.
func sessErr(err error) *rpcError {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "not an absolute path"):
		return &rpcError{Code: codePathNotAbsolute, Msg: msg}
	case errors.Is(err, session.ErrInvalid), errors.Is(err, session.ErrNotFound):
		return &rpcError{Code: codeInvalidParams, Msg: msg}
	default:
		return &rpcError{Code: codeSystemError, Msg: msg}
	}
}
