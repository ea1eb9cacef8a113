package qbittorrent

import (
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// sync/maindata: each answer carries a response id (rid); a client that
// sends it back gets only what changed since that answer. The handler
// keeps the last few answers' state (at least the newest one; older ones
// while all of them together hold at most maxSnapshotTorrents torrent
// objects, and at most maxSnapshots answers). An unknown, expired or zero
// rid gets a full update, as in qBittorrent.
const (
	maxSnapshots        = 16
	maxSnapshotTorrents = 20000
)

// snapshot is the state one maindata answer described.
type snapshot struct {
	rid        int64
	torrents   map[string]*torrent
	categories map[string]any
	tags       []string
	server     map[string]any
}

type syncState struct {
	mu    sync.Mutex
	last  int64
	snaps []snapshot // oldest first
}

func newSyncState() *syncState { return &syncState{} }

// record stores s under a new rid and returns that rid and the snapshot
// the client's rid names (ok false when none).
func (st *syncState) record(s snapshot, clientRid int64) (rid int64, prev snapshot, ok bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if clientRid > 0 {
		for _, p := range st.snaps {
			if p.rid == clientRid {
				prev, ok = p, true
				break
			}
		}
	}
	st.last++
	s.rid = st.last
	st.snaps = append(st.snaps, s)
	total := 0
	keep := 0
	for i := len(st.snaps) - 1; i >= 0; i-- {
		total += len(st.snaps[i].torrents)
		if keep > 0 && (total > maxSnapshotTorrents || keep >= maxSnapshots) {
			break
		}
		keep++
	}
	st.snaps = slices.Delete(st.snaps, 0, len(st.snaps)-keep)
	return s.rid, prev, ok
}

// maindata answers sync/maindata.
func (h *Handler) maindata(w http.ResponseWriter, _ *http.Request, f *form) {
	clientRid, _ := strconv.ParseInt(strings.TrimSpace(f.get("rid")), 10, 64)
	list := h.sess.ListShared()
	v := h.newView()
	cur := snapshot{torrents: make(map[string]*torrent, len(list)), categories: h.categoryMap(), tags: h.tagList(),
		server: h.serverState(list, true)}
	objs := make([]torrent, len(list))
	present := make(map[string]bool, len(list))
	trackers := map[string][]string{}
	for i, st := range list {
		obj := &objs[i]
		*obj = h.torrentObject(*st, v)
		obj[fHash] = value{} // the key names it
		cur.torrents[st.InfoHash] = obj
		present[st.InfoHash] = true
		for _, tier := range v.extras[st.InfoHash].Trackers {
			for _, u := range tier {
				trackers[u] = append(trackers[u], st.InfoHash)
			}
		}
	}
	h.forgetActive(present)
	rid, prev, incremental := h.sync.record(cur, clientRid)
	if !incremental {
		writeJSON(w, map[string]any{
			"rid": rid, "full_update": true, "torrents": cur.torrents, "categories": cur.categories,
			"tags": cur.tags, "server_state": cur.server, "trackers": trackers,
		})
		return
	}
	writeJSON(w, diff(prev, cur, rid))
}

// diff is the incremental answer from prev to cur: new torrents whole,
// changed torrents with only their changed fields, removed ones by hash;
// likewise categories, tags and the server state.
func diff(prev, cur snapshot, rid int64) map[string]any {
	out := map[string]any{"rid": rid}
	changed := map[string]*torrent{}
	for hash, obj := range cur.torrents {
		old, ok := prev.torrents[hash]
		if !ok {
			changed[hash] = obj
			continue
		}
		if d, ok := changedTorrent(old, obj); ok {
			changed[hash] = &d
		}
	}
	if len(changed) > 0 {
		out["torrents"] = changed
	}
	var removed []string
	for hash := range prev.torrents {
		if _, ok := cur.torrents[hash]; !ok {
			removed = append(removed, hash)
		}
	}
	if len(removed) > 0 {
		slices.Sort(removed)
		out["torrents_removed"] = removed
	}
	cats := map[string]any{}
	for name, c := range cur.categories {
		if old, ok := prev.categories[name]; !ok || !reflect.DeepEqual(old, c) {
			cats[name] = c
		}
	}
	if len(cats) > 0 {
		out["categories"] = cats
	}
	var catsGone []string
	for name := range prev.categories {
		if _, ok := cur.categories[name]; !ok {
			catsGone = append(catsGone, name)
		}
	}
	if len(catsGone) > 0 {
		slices.Sort(catsGone)
		out["categories_removed"] = catsGone
	}
	var newTags, tagsGone []string
	for _, t := range cur.tags {
		if !slices.Contains(prev.tags, t) {
			newTags = append(newTags, t)
		}
	}
	for _, t := range prev.tags {
		if !slices.Contains(cur.tags, t) {
			tagsGone = append(tagsGone, t)
		}
	}
	if len(newTags) > 0 {
		out["tags"] = newTags
	}
	if len(tagsGone) > 0 {
		out["tags_removed"] = tagsGone
	}
	if d := changedFields(prev.server, cur.server); len(d) > 0 {
		out["server_state"] = d
	}
	return out
}

// changedFields returns the fields of cur whose values differ from old.
func changedFields[M ~map[string]any](old, cur M) map[string]any {
	out := map[string]any{}
	for k, v := range cur {
		if o, ok := old[k]; !ok || !equalValues(o, v) {
			out[k] = v
		}
	}
	return out
}

// equalValues reports whether two field values are equal: the scalars a
// torrent object is made of directly (a maindata poll compares 10,000 of
// them 60 times), anything else deeply.
func equalValues(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case int:
		y, ok := b.(int)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}
