package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gobit/gobit/internal/api/jsonenc"
	"github.com/gobit/gobit/internal/session"
)

// The torrent list, fast: GET /api/v1/torrents and the event stream's
// snapshot encode thousands of session.Status at a time (a seedbox holds
// 10,000 torrents: 2 MB of JSON). encoding/json's reflection made that the
// list's main cost; statusFields appends each field directly, the same
// bytes encoding/json writes (TestStatusEncodingMatchesJSON), and lets a
// client ask for only the fields it shows (?fields=). Paging (?offset=,
// ?limit=) and the filters (?state=, ?category=, ?tag=) bound the rest.

// statusField appends one field's JSON value.
type statusField struct {
	name   string
	append func(b []byte, st *session.Status) []byte
}

// statusFields lists every JSON field of session.Status, in its order.
var statusFields = []statusField{
	{"info_hash", func(b []byte, s *session.Status) []byte { return appendString(b, s.InfoHash) }},
	{"name", func(b []byte, s *session.Status) []byte { return appendString(b, s.Name) }},
	{"original_name", func(b []byte, s *session.Status) []byte { return appendString(b, s.OriginalName) }},
	{"state", func(b []byte, s *session.Status) []byte { return appendString(b, string(s.State)) }},
	{"error", func(b []byte, s *session.Status) []byte { return appendString(b, s.Error) }}, // omitempty: see appendStatus
	{"progress", func(b []byte, s *session.Status) []byte { return appendFloat(b, s.Progress) }},
	{"total_size", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, s.TotalSize, 10) }},
	{"completed", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, s.Completed, 10) }},
	{"downloaded", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, s.Downloaded, 10) }},
	{"uploaded", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, s.Uploaded, 10) }},
	{"download_rate", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, s.DownloadRate, 10) }},
	{"upload_rate", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, s.UploadRate, 10) }},
	{"peers", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, int64(s.Peers), 10) }},
	{"seeds", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, int64(s.Seeds), 10) }},
	{"eta", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, s.ETASeconds, 10) }},
	{"save_dir", func(b []byte, s *session.Status) []byte { return appendString(b, s.SaveDir) }},
	{"content_path", func(b []byte, s *session.Status) []byte { return appendString(b, s.ContentPath) }},
	{"added_at", func(b []byte, s *session.Status) []byte { return appendTime(b, s.AddedAt) }},
	{"ratio", func(b []byte, s *session.Status) []byte { return appendFloat(b, s.Ratio) }},
	{"upload_limit", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, s.UploadLimit, 10) }},
	{"download_limit", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, s.DownloadLimit, 10) }},
	{"ratio_limit", func(b []byte, s *session.Status) []byte { return appendFloat(b, s.RatioLimit) }},
	{"seed_time_limit", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, s.SeedTimeLimit, 10) }},
	{"upload_slots", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, int64(s.UploadSlots), 10) }},
	{"finished", func(b []byte, s *session.Status) []byte { return strconv.AppendBool(b, s.Finished) }},
	{"category", func(b []byte, s *session.Status) []byte { return appendString(b, s.Category) }},
	{"tags", func(b []byte, s *session.Status) []byte { return appendStrings(b, s.Tags) }},
	{"queue_position", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, int64(s.QueuePosition), 10) }},
	{"forced", func(b []byte, s *session.Status) []byte { return strconv.AppendBool(b, s.Forced) }},
	{"wanted_size", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, s.WantedSize, 10) }},
	{"wanted_completed", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, s.WantedCompleted, 10) }},
	{"sequential", func(b []byte, s *session.Status) []byte { return strconv.AppendBool(b, s.Sequential) }},
	{"first_last_piece_first", func(b []byte, s *session.Status) []byte {
		return strconv.AppendBool(b, s.FirstLastPieceFirst)
	}},
	{"peers_sending", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, int64(s.PeersSending), 10) }},
	{"peers_receiving", func(b []byte, s *session.Status) []byte { return strconv.AppendInt(b, int64(s.PeersReceiving), 10) }},
}

// fieldError is the index of "error" in statusFields: it is omitted when
// empty, as its omitempty tag says.
var fieldError = slices.IndexFunc(statusFields, func(f statusField) bool { return f.name == "error" })

// allFields selects every field.
var allFields = func() []int {
	out := make([]int, len(statusFields))
	for i := range out {
		out[i] = i
	}
	return out
}()

// parseFields turns a ?fields= value (comma-separated, repeatable) into
// the indices of statusFields, in their order; every field when there is
// none.
func parseFields(vals []string) ([]int, error) {
	var want []int
	for _, v := range vals {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			i := slices.IndexFunc(statusFields, func(f statusField) bool { return f.name == name })
			if i < 0 {
				return nil, badRequest("fields: no field %q in a torrent status", truncate(name, 40))
			}
			if !slices.Contains(want, i) {
				want = append(want, i)
			}
		}
	}
	if len(want) == 0 {
		return allFields, nil
	}
	slices.Sort(want)
	return want, nil
}

// appendStatus appends st as a JSON object with the fields of statusFields
// at the indices in fields.
func appendStatus(b []byte, st *session.Status, fields []int) []byte {
	b = append(b, '{')
	first := true
	for _, i := range fields {
		if i == fieldError && st.Error == "" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		f := &statusFields[i]
		b = append(b, '"')
		b = append(b, f.name...)
		b = append(b, '"', ':')
		b = f.append(b, st)
	}
	return append(b, '}')
}

// appendStatuses appends l as a JSON array.
func appendStatuses(b []byte, l []session.Status, fields []int) []byte {
	b = append(b, '[')
	for i := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStatus(b, &l[i], fields)
	}
	return append(b, ']')
}

// appendSnapshot appends the JSON of a snapshot event's data.
func appendSnapshot(b []byte, snap *session.Snapshot) ([]byte, error) {
	b = append(b, `{"torrents":`...)
	b = appendStatuses(b, snap.Torrents, allFields)
	stats, err := json.Marshal(snap.Stats)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"stats":`...)
	b = append(b, stats...)
	return append(b, '}'), nil
}

func appendString(b []byte, s string) []byte    { return jsonenc.AppendString(b, s) }
func appendStrings(b []byte, l []string) []byte { return jsonenc.AppendStrings(b, l) }
func appendFloat(b []byte, f float64) []byte    { return jsonenc.AppendFloat(b, f) }
func appendTime(b []byte, t time.Time) []byte   { return jsonenc.AppendTime(b, t) }

// listQuery is what a list request asks for beyond the category and tag
// filters: the fields, a state filter and a page.
type listQuery struct {
	fields []int
	states []session.State
	offset int
	limit  int // -1: no limit
}

// maxListParam bounds offset and limit.
const maxListParam = 1 << 30

// parseListQuery reads ?fields=, ?state=, ?offset= and ?limit=.
func parseListQuery(r *http.Request) (listQuery, error) {
	q := r.URL.Query()
	lq := listQuery{limit: -1}
	var err error
	if lq.fields, err = parseFields(q["fields"]); err != nil {
		return lq, err
	}
	for _, v := range q["state"] {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			st := session.State(s)
			if !slices.Contains(listStates, st) {
				return lq, badRequest("state: %q is not a torrent state (%s)", truncate(s, 40), joinStates())
			}
			lq.states = append(lq.states, st)
		}
	}
	num := func(name string) (int, error) {
		v := q.Get(name)
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxListParam {
			return 0, badRequest("%s must be a whole number from 0 to %d, got %q", name, maxListParam, truncate(v, 40))
		}
		return n, nil
	}
	if q.Has("offset") {
		if lq.offset, err = num("offset"); err != nil {
			return lq, err
		}
	}
	if q.Has("limit") {
		if lq.limit, err = num("limit"); err != nil {
			return lq, err
		}
	}
	return lq, nil
}

// listStates are the states ?state= accepts.
var listStates = []session.State{session.StateMetadata, session.StateChecking, session.StateDownloading,
	session.StateSeeding, session.StatePaused, session.StateError, session.StateQueued}

func joinStates() string {
	var sb strings.Builder
	for i, s := range listStates {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(string(s))
	}
	return sb.String()
}

// page applies the state filter and the page to l (already filtered by
// category and tag) and returns the page and how many torrents matched.
func (lq listQuery) page(l []*session.Status) ([]*session.Status, int) {
	if len(lq.states) > 0 {
		l = slices.DeleteFunc(l, func(st *session.Status) bool { return !slices.Contains(lq.states, st.State) })
	}
	total := len(l)
	start := min(lq.offset, total)
	end := total
	if lq.limit >= 0 {
		end = min(start+lq.limit, total)
	}
	return l[start:end], total
}

// writeStatuses answers 200 with the JSON array of l, with the fields
// asked for. A row of every field comes from the row cache.
func (h *handler) writeStatuses(w http.ResponseWriter, l []*session.Status, fields []int, total int) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json; charset=utf-8")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Total-Count", strconv.Itoa(total))
	w.WriteHeader(http.StatusOK)
	// Written in pieces of about writeChunk bytes from a pooled buffer:
	// the list of 10,000 is 7 MiB, which a buffer of its own would add to
	// the heap each time (and the collector would run for it).
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	b := append((*bp)[:0], '[')
	cached := len(fields) == len(statusFields)
	var rows [rowBatch][]byte
	for i := 0; i < len(l); i += rowBatch {
		batch := l[i:min(i+rowBatch, len(l))]
		if cached {
			h.rows.get(batch, rows[:len(batch)])
		}
		for j, st := range batch {
			if i+j > 0 {
				b = append(b, ',')
			}
			if cached {
				b = append(b, rows[j]...)
			} else {
				b = appendStatus(b, st, fields)
			}
			if len(b) >= writeChunk {
				if _, err := w.Write(b); err != nil {
					*bp = b
					return
				}
				b = b[:0]
			}
		}
	}
	_, _ = w.Write(append(b, ']', '\n'))
	*bp = b
}

// writeChunk is the size of the pieces writeStatuses writes.
const writeChunk = 32 << 10

// chunkPool holds writeStatuses' buffers.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, writeChunk+4096); return &b }}

// rowBatch is how many rows writeStatuses takes from the cache at a time.
const rowBatch = 256

// rowCache keeps each torrent's row of every field, encoded, by the
// shared Status it was encoded from (Backend.ListShared): a torrent's
// pointer changes when its status does, so a row is found only while it is
// current, and a list of 10,000 mostly idle torrents encodes only the few
// that changed. A cached row holds its Status, whose address therefore
// cannot be reused by another while the row is kept.
type rowCache struct {
	mu   sync.Mutex
	rows map[*session.Status][]byte
}

// get fills out with the rows of l (len(out) == len(l)), encoding and
// keeping the ones not cached. Rows are never changed once cached.
func (c *rowCache) get(l []*session.Status, out [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rows == nil {
		c.rows = make(map[*session.Status][]byte)
	}
	for i, st := range l {
		row, ok := c.rows[st]
		if !ok {
			row = appendStatus(nil, st, allFields)
			c.rows[st] = row
		}
		out[i] = row
	}
}

// prune drops the rows of statuses no longer listed once they outnumber
// the listed ones by half; l is the whole list.
func (c *rowCache) prune(l []*session.Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.rows) <= len(l)+len(l)/2+64 {
		return
	}
	keep := make(map[*session.Status][]byte, len(l))
	for _, st := range l {
		if row, ok := c.rows[st]; ok {
			keep[st] = row
		}
	}
	c.rows = keep
}
