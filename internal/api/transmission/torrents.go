package transmission

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gobit/gobit/internal/api/jsonenc"

	"github.com/gobit/gobit/internal/session"
)

// maxTorrentFile caps a .torrent file read from a local path.
const maxTorrentFile = 10 << 20

func (h *Handler) torrentGet(_ context.Context, r *request) (map[string]any, *rpcError) {
	names, ok, err := r.args.strings("fields")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorf(codeInvalidParams, "no fields specified")
	}
	format, _, err := r.args.str("format")
	if err != nil {
		return nil, err
	}
	table := format == "table"
	vs, set, now, err := h.selected(r)
	if err != nil {
		return nil, err
	}
	var fs []field
	seen := map[string]bool{}
	for _, n := range names {
		s := snake(n)
		if f, ok := fieldsBySnake[s]; ok && !seen[s] {
			seen[s] = true
			fs = append(fs, f)
		}
	}
	global := h.b.Settings()
	torrents, err := encodeTorrents(&torrentCtx{h: h, r: r, now: now, global: global}, vs, fs, table)
	if err != nil {
		return nil, err
	}
	res := map[string]any{"torrents": torrents}
	if set.recentlyActive {
		res["removed"] = h.ids.recentlyRemoved(now)
	}
	return res, nil
}

// rawJSON is a value already encoded.
type rawJSON []byte

// MarshalJSON returns r.
func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

// encodeTorrents encodes torrent-get's list of vs with the fields fs:
// objects with their keys in the order encoding/json writes a map's (the
// answer is the same as when they were maps), or with table, arrays after
// a header of the field names. The values are appended directly (package
// jsonenc): a list of 10,000 torrents builds no map and boxes only the
// numbers. c is the call's context, filled in for each torrent.
func encodeTorrents(c *torrentCtx, vs []view, fs []field, table bool) (rawJSON, *rpcError) {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = c.r.name(f.legacy)
	}
	order := make([]int, len(fs))
	for i := range order {
		order[i] = i
	}
	if !table {
		slices.SortFunc(order, func(a, b int) int { return strings.Compare(names[a], names[b]) })
	}
	// The keys, quoted and followed by a colon, once for all torrents.
	keys := make([][]byte, len(fs))
	for i, n := range names {
		keys[i] = append(jsonenc.AppendString(nil, n), ':')
	}
	b := make([]byte, 0, 1024+len(vs)*(16+24*len(fs)))
	b = append(b, '[')
	if table {
		b = jsonenc.AppendStrings(b, names)
	}
	var err error
	for k, v := range vs {
		if k > 0 || table {
			b = append(b, ',')
		}
		c.v, c.d = v, nil
		open, close := byte('{'), byte('}')
		if table {
			open, close = '[', ']'
		}
		b = append(b, open)
		for j, i := range order {
			if j > 0 {
				b = append(b, ',')
			}
			if !table {
				b = append(b, keys[i]...)
			}
			x := fs[i].get(c)
			if raw, ok := x.(rawJSON); ok {
				b = append(b, raw...)
				continue
			}
			if b, err = jsonenc.AppendValue(b, x, true); err != nil {
				return nil, errorf(codeSystemError, "encoding %s of torrent %d: %v", names[i], v.id, err)
			}
		}
		b = append(b, close)
	}
	return append(b, ']'), nil
}

// filePriorities gathers the file arguments of torrent-add and torrent-set
// as gobit priorities by file index. nFiles, when known, expands an empty
// list to every file, as Transmission does; keep returns a file's current
// priority for files-wanted (nil: normal).
func filePriorities(a args, nFiles int, keep func(i int) string) (map[int]string, *rpcError) {
	prio := map[int]string{}
	list := func(k string) ([]int, bool, *rpcError) {
		idx, ok, err := a.indices(k)
		if err != nil || !ok {
			return nil, ok, err
		}
		if len(idx) == 0 && nFiles > 0 {
			for i := range min(nFiles, maxList) {
				idx = append(idx, i)
			}
		}
		if nFiles > 0 {
			for _, i := range idx {
				if i >= nFiles {
					return nil, false, errorf(codeFileIndex, "file index %d out of range (the torrent has %d files)", i, nFiles)
				}
			}
		}
		return idx, true, nil
	}
	for _, p := range []struct{ key, prio string }{{"priority_low", "low"}, {"priority_normal", "normal"}, {"priority_high", "high"}} {
		idx, _, err := list(p.key)
		if err != nil {
			return nil, err
		}
		for _, i := range idx {
			if keep != nil && keep(i) == "skip" {
				continue // an unwanted file stays unwanted
			}
			prio[i] = p.prio
		}
	}
	wanted, _, err := list("files_wanted")
	if err != nil {
		return nil, err
	}
	for _, i := range wanted {
		if _, set := prio[i]; set {
			continue
		}
		cur := ""
		if keep != nil {
			cur = keep(i)
		}
		if cur == "" || cur == "skip" {
			cur = "normal"
		}
		prio[i] = cur
	}
	unwanted, _, err := list("files_unwanted")
	if err != nil {
		return nil, err
	}
	for _, i := range unwanted {
		prio[i] = "skip"
	}
	return prio, nil
}

func (h *Handler) torrentAdd(ctx context.Context, r *request) (map[string]any, *rpcError) {
	a := r.args
	var req session.AddRequest
	meta, hasMeta, err := a.str("metainfo")
	if err != nil {
		return nil, err
	}
	filename, hasFile, err := a.str("filename")
	if err != nil {
		return nil, err
	}
	switch {
	case hasMeta && meta != "":
		data, derr := decodeBase64(meta)
		if derr != nil {
			return nil, errorf(codeCorruptTorrent, "invalid or corrupt torrent file: metainfo is not base64")
		}
		req.Torrent = data
	case hasFile && filename != "":
		f := strings.TrimSpace(filename)
		low := strings.ToLower(f)
		switch {
		case strings.HasPrefix(low, "magnet:"), strings.HasPrefix(low, "http://"), strings.HasPrefix(low, "https://"):
			req.URI = f
		case filepath.IsAbs(f):
			data, rerr := readTorrentFile(f)
			if rerr != nil {
				return nil, errorf(codeInvalidParams, "%v", rerr)
			}
			req.Torrent = data
		default:
			return nil, errorf(codeInvalidParams, "filename %q is neither a magnet link, an http(s) URL nor an absolute path", truncate(f, 80))
		}
	default:
		return nil, errorf(codeInvalidParams, "no filename or metainfo specified")
	}
	if dir, ok, err := a.str("download_dir"); err != nil {
		return nil, err
	} else if ok {
		req.DownloadDir = dir
	}
	if p, ok, err := a.boolean("paused"); err != nil {
		return nil, err
	} else if ok {
		req.Paused = p
	}
	if labels, ok, err := a.strings("labels"); err != nil {
		return nil, err
	} else if ok {
		req.Tags = labels
	}
	prio, perr := filePriorities(a, 0, nil)
	if perr != nil {
		return nil, perr
	}
	if len(prio) > 0 {
		req.Files = prio
	}
	st, aerr := h.b.Add(ctx, req)
	key := "torrent-added"
	if aerr != nil {
		var ex *session.ExistsError
		if !errors.As(aerr, &ex) {
			return nil, addErr(aerr)
		}
		key = "torrent-duplicate"
		st.InfoHash = ex.InfoHash
	}
	h.mu.Lock()
	if aerr == nil {
		h.addedSinceStart++
	}
	h.mu.Unlock()
	vs, _ := h.snapshot()
	for _, v := range vs {
		if v.st.InfoHash == st.InfoHash {
			return map[string]any{r.name(key): map[string]any{
				r.name("id"): v.id, r.name("name"): v.st.Name, r.name("hashString"): v.st.InfoHash,
			}}, nil
		}
	}
	return nil, errorf(codeSystemError, "torrent %s vanished while being added", st.InfoHash)
}

// addErr words an Add error as Transmission's codes do.
func addErr(err error) *rpcError {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "fetch "):
		return &rpcError{Code: codeHTTPError, Msg: msg}
	case strings.Contains(msg, ".torrent"):
		return &rpcError{Code: codeCorruptTorrent, Msg: msg}
	}
	return sessErr(err)
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// readTorrentFile reads a .torrent file the client names by local path.
func readTorrentFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, errors.Unwrap(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTorrentFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	if len(data) > maxTorrentFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, maxTorrentFile)
	}
	return data, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// each runs fn on every selected torrent and returns the first error.
func (h *Handler) each(r *request, fn func(v view) error) (map[string]any, *rpcError) {
	vs, _, _, err := h.selected(r)
	if err != nil {
		return nil, err
	}
	var first error
	for _, v := range vs {
		if e := fn(v); e != nil && first == nil {
			first = e
		}
	}
	if first != nil {
		return nil, sessErr(first)
	}
	return nil, nil
}

func (h *Handler) torrentStart(_ context.Context, r *request) (map[string]any, *rpcError) {
	return h.each(r, func(v view) error {
		if v.st.State != session.StatePaused && v.st.State != session.StateError {
			return nil
		}
		return h.b.Resume(v.st.InfoHash)
	})
}

func (h *Handler) torrentStartNow(_ context.Context, r *request) (map[string]any, *rpcError) {
	return h.each(r, func(v view) error { return h.b.ForceStart(v.st.InfoHash) })
}

func (h *Handler) torrentStop(_ context.Context, r *request) (map[string]any, *rpcError) {
	return h.each(r, func(v view) error {
		if v.st.State == session.StatePaused {
			return nil
		}
		return h.b.Pause(v.st.InfoHash)
	})
}

func (h *Handler) torrentVerify(_ context.Context, r *request) (map[string]any, *rpcError) {
	return h.each(r, func(v view) error {
		err := h.b.Recheck(v.st.InfoHash)
		if errors.Is(err, session.ErrConflict) {
			return nil // checking already, or no metadata: nothing to verify
		}
		return err
	})
}

func (h *Handler) torrentReannounce(_ context.Context, r *request) (map[string]any, *rpcError) {
	return h.each(r, func(v view) error {
		err := h.b.Reannounce(v.st.InfoHash)
		if errors.Is(err, session.ErrConflict) {
			return nil // Transmission skips torrents that cannot announce
		}
		return err
	})
}

func (h *Handler) torrentRemove(_ context.Context, r *request) (map[string]any, *rpcError) {
	del, _, err := r.args.boolean("delete_local_data")
	if err != nil {
		return nil, err
	}
	return h.each(r, func(v view) error {
		err := h.b.Remove(v.st.InfoHash, del)
		if errors.Is(err, session.ErrNotFound) {
			return nil
		}
		return err
	})
}

func (h *Handler) torrentSetLocation(_ context.Context, r *request) (map[string]any, *rpcError) {
	loc, ok, err := r.args.str("location")
	if err != nil {
		return nil, err
	}
	if !ok || loc == "" {
		return nil, errorf(codeInvalidParams, "no location")
	}
	if !filepath.IsAbs(loc) {
		return nil, errorf(codePathNotAbsolute, "new location path is not absolute: %q", truncate(loc, 80))
	}
	move, _, err := r.args.boolean("move")
	if err != nil {
		return nil, err
	}
	return h.each(r, func(v view) error {
		if move {
			return h.b.Move(v.st.InfoHash, loc)
		}
		return h.b.SetLocation(v.st.InfoHash, loc)
	})
}

func (h *Handler) torrentRenamePath(_ context.Context, r *request) (map[string]any, *rpcError) {
	vs, _, _, err := h.selected(r)
	if err != nil {
		return nil, err
	}
	if len(vs) != 1 {
		return nil, errorf(codeInvalidParams, "torrent-rename-path requires 1 torrent")
	}
	path, _, err := r.args.str("path")
	if err != nil {
		return nil, err
	}
	name, _, err := r.args.str("name")
	if err != nil {
		return nil, err
	}
	path = strings.TrimSuffix(path, "/")
	if path == "" {
		return nil, errorf(codeInvalidParams, "no path: give the file or folder to rename, as the torrent's files name it")
	}
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\") {
		return nil, errorf(codeInvalidParams, "name %q is not a file name: give the new last component of path", truncate(name, 80))
	}
	to := name
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		to = path[:i+1] + name
	}
	v := vs[0]
	if to != path {
		if _, err := h.b.RenamePath(v.st.InfoHash, path, to); err != nil {
			return nil, sessErr(err)
		}
		// The torrent's top-level file or folder names the torrent, as in
		// Transmission.
		if !strings.Contains(path, "/") {
			if _, err := h.b.UpdateTorrent(v.st.InfoHash, session.TorrentUpdate{Name: &name}); err != nil {
				return nil, sessErr(err)
			}
		}
	}
	return map[string]any{"path": path, "name": name, "id": v.id}, nil
}

// queueMover returns the method that moves torrents in the queue.
func queueMover(m session.QueueMove) func(h *Handler, ctx context.Context, r *request) (map[string]any, *rpcError) {
	return func(h *Handler, _ context.Context, r *request) (map[string]any, *rpcError) {
		vs, _, _, err := h.selected(r)
		if err != nil {
			return nil, err
		}
		// Moving to the top goes last-to-first so the torrents keep their
		// order, as Transmission does; to the bottom first-to-last.
		byPos := append([]view(nil), vs...)
		sortByQueue(byPos)
		if m == session.QueueTop || m == session.QueueDown {
			for i, j := 0, len(byPos)-1; i < j; i, j = i+1, j-1 {
				byPos[i], byPos[j] = byPos[j], byPos[i]
			}
		}
		for _, v := range byPos {
			if e := h.b.MoveInQueue(v.st.InfoHash, m); e != nil && !errors.Is(e, session.ErrNotFound) {
				return nil, sessErr(e)
			}
		}
		return nil, nil
	}
}

func sortByQueue(vs []view) {
	slices.SortFunc(vs, func(a, b view) int { return a.st.QueuePosition - b.st.QueuePosition })
}
