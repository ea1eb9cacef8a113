package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gobit/gobit/internal/session"
)

// The event stream: GET /api/v1/events answers server-sent events
// (text/event-stream), one per session.Event, each as
//
//	id: <number>
//	event: <type>
//	data: <JSON of the event's data>
//
// The first carries "retry:" too, and is the snapshot. A comment line
// (": keep-alive") is sent every HeartbeatInterval, so that proxies keep
// the connection open and both ends notice a dead one. A subscriber that
// falls too far behind is dropped by the session's broker; its stream then
// ends with an "overflow" event. Beyond the broker's subscriber limit the
// route answers 503 with Retry-After.

// Timing of the event stream.
const (
	// HeartbeatInterval is how often a stream with nothing to say sends a
	// comment line.
	HeartbeatInterval = 15 * time.Second
	// eventWriteTimeout bounds each write of the stream: a client that
	// reads nothing for that long is cut off.
	eventWriteTimeout = 30 * time.Second
	// retryMillis is the reconnection delay the stream suggests to
	// browsers' EventSource.
	retryMillis = 3000
	// EventOverflow is the type of the stream's last event when the
	// daemon dropped a subscriber that fell behind.
	EventOverflow = "overflow"
)

// heartbeat is HeartbeatInterval; tests shorten it.
var heartbeat = HeartbeatInterval

// events serves GET /api/v1/events.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead { // the headers of a stream, without one
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		return
	}
	sub, err := h.b.Subscribe()
	if err != nil {
		if errors.Is(err, session.ErrTooManySubscribers) {
			w.Header().Set("Retry-After", "5")
			writeError(w, http.StatusServiceUnavailable, err.Error()+": close another event stream or try again later")
			return
		}
		h.fail(w, r, err)
		return
	}
	defer sub.Cancel()
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)

	var buf bytes.Buffer
	send := func() bool {
		// Each write gets its own deadline, replacing the server's
		// WriteTimeout, which would otherwise end the stream.
		_ = rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout))
		_, err := w.Write(buf.Bytes())
		buf.Reset()
		return err == nil && rc.Flush() == nil
	}
	fmt.Fprintf(&buf, "retry: %d\n", retryMillis)
	hb := time.NewTicker(heartbeat)
	defer hb.Stop()
	for {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				if errors.Is(sub.Err(), session.ErrOverflow) {
					data, _ := json.Marshal(ErrorBody{Error: sub.Err().Error()})
					fmt.Fprintf(&buf, "event: %s\ndata: %s\n\n", EventOverflow, data)
					send()
				}
				return
			}
			var data []byte
			var err error
			if snap, ok := ev.Data.(session.Snapshot); ok {
				data, err = appendSnapshot(make([]byte, 0, 64+len(snap.Torrents)*700), &snap) // listjson.go: fast for thousands
			} else {
				data, err = json.Marshal(ev.Data)
			}
			if err != nil {
				h.log.Error("api: encoding an event", "type", ev.Type, "err", err)
				return
			}
			fmt.Fprintf(&buf, "id: %d\nevent: %s\ndata: %s\n\n", ev.ID, ev.Type, data)
			if !send() {
				return
			}
		case <-hb.C:
			buf.WriteString(": keep-alive\n\n")
			if !send() {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}

// Event is one event of the daemon's event stream as a client receives
// it: its type (a session.EventType, or EventOverflow), its number and its
// JSON data.
type Event struct {
	ID   uint64
	Type string
	Data json.RawMessage
}

// Decode decodes the event's data into v (a *session.Snapshot for a
// snapshot, a *session.Status for torrent-added, and so on).
func (e Event) Decode(v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("event %s: %w", e.Type, err)
	}
	return nil
}

// ErrStreamEnded is the error of an event stream that the daemon ended
// (it shut down); one ended because the client fell behind matches
// session.ErrOverflow instead.
var ErrStreamEnded = errors.New("the daemon ended the event stream")

// eventIdleTimeout is how long Events waits for anything (an event or a
// heartbeat) before it gives the connection up.
const eventIdleTimeout = 3 * HeartbeatInterval

// Events subscribes to the daemon's event stream and yields its events,
// the snapshot first, until ctx is done (then it just stops) or the stream
// fails or ends (then it yields a last, non-nil error: ErrStreamEnded, or
// one matching session.ErrOverflow after an overflow event, or the
// failure). The Client's HTTP timeout does not apply to the stream; a
// connection silent for three heartbeats is given up.
func (c *Client) Events(ctx context.Context) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		base, err := c.baseURL()
		if err != nil {
			yield(Event{}, err)
			return
		}
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		req, err := http.NewRequestWithContext(sctx, http.MethodGet, base+"/api/v1/events", nil)
		if err != nil {
			yield(Event{}, fmt.Errorf("building request: %w", err))
			return
		}
		req.Header.Set("Accept", "text/event-stream")
		if c.Token != "" {
			req.Header.Set("Authorization", "Bearer "+c.Token)
		}
		hc := http.Client{}
		if c.HTTP != nil {
			hc = *c.HTTP
			hc.Timeout = 0 // a stream has no end to wait for
		}
		resp, err := hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			yield(Event{}, fmt.Errorf("gobit daemon at %s: %w", base, unwrapURLError(err)))
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			var eb ErrorBody
			if json.Unmarshal(data, &eb) != nil || eb.Error == "" {
				eb.Error = strings.TrimSpace(truncate(string(data), 200))
				if eb.Error == "" {
					eb.Error = http.StatusText(resp.StatusCode)
				}
			}
			yield(Event{}, fmt.Errorf("events: %w", &Error{StatusCode: resp.StatusCode, Message: eb.Error}))
			return
		}
		if mt := strings.ToLower(strings.TrimSpace(strings.Split(resp.Header.Get("Content-Type"), ";")[0])); mt != "text/event-stream" {
			yield(Event{}, fmt.Errorf("the answer to GET /api/v1/events is %q, not an event stream: is the address that of a gobit daemon?", mt))
			return
		}
		idle := time.AfterFunc(eventIdleTimeout, cancel)
		defer idle.Stop()
		overflowed := false
		err = readEvents(resp.Body, func() { idle.Reset(eventIdleTimeout) }, func(ev Event) bool {
			overflowed = ev.Type == EventOverflow
			return yield(ev, nil)
		})
		switch {
		case errors.Is(err, errStopped), ctx.Err() != nil:
		case overflowed:
			yield(Event{}, fmt.Errorf("events: %w", session.ErrOverflow))
		case sctx.Err() != nil:
			yield(Event{}, fmt.Errorf("events: nothing received from the daemon for %v", eventIdleTimeout))
		case err == nil:
			yield(Event{}, ErrStreamEnded)
		default:
			yield(Event{}, fmt.Errorf("events: %w", err))
		}
	}
}

var errStopped = errors.New("stopped by the caller")

// readEvents parses a text/event-stream, calling alive for every line and
// emit for every event with data. It returns nil at the end of the stream
// and errStopped when emit returns false. A line is at most
// maxResponseBytes long (a snapshot of thousands of torrents is one line).
func readEvents(r io.Reader, alive func(), emit func(Event) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxResponseBytes)
	var ev Event
	var data []byte
	hasData := false
	for sc.Scan() {
		alive()
		line := sc.Bytes()
		if len(line) == 0 {
			if hasData {
				if ev.Type == "" {
					ev.Type = "message"
				}
				ev.Data = json.RawMessage(data)
				if !emit(ev) {
					return errStopped
				}
			}
			ev, data, hasData = Event{ID: ev.ID}, nil, false
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			ev.Type = string(value)
		case "data":
			if hasData {
				data = append(data, '\n')
			}
			data = append(data, value...)
			hasData = true
		case "id":
			if n, err := strconv.ParseUint(string(value), 10, 64); err == nil {
				ev.ID = n
			}
		}
	}
	return sc.Err()
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err // drop the repeated method and URL
	}
	return err
}
