package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gobit/gobit/internal/session"
)

// DefaultClientTimeout bounds each request of a Client whose HTTP field is
// nil. Adding a torrent by URL makes the daemon fetch it, hence the margin.
const DefaultClientTimeout = 60 * time.Second

// maxResponseBytes bounds how much of a response body a Client reads.
const maxResponseBytes = 64 << 20

// Client talks to a gobit daemon's API. The zero value is not usable:
// BaseURL must be set. A Client is safe for concurrent use.
type Client struct {
	// BaseURL is the daemon's address, e.g. "http://127.0.0.1:8080". A bare
	// "host:port" is taken as http.
	BaseURL string
	// Token is sent as "Authorization: Bearer <token>" when non-empty.
	Token string
	// HTTP is the client used for requests; nil means one with
	// DefaultClientTimeout.
	HTTP *http.Client
}

// Error is an error answered by the daemon: its HTTP status code and the
// message of its JSON error body. errors.Is matches it against the session
// and api sentinels its status code stands for (404 session.ErrNotFound,
// 409 session.ErrExists, 400 session.ErrInvalid, 401 ErrUnauthorized, 413
// ErrTooLarge, 415 ErrUnsupportedType).
type Error struct {
	StatusCode int
	Message    string
}

// Error returns the daemon's message with the status code.
func (e *Error) Error() string {
	return fmt.Sprintf("%s (HTTP %d)", e.Message, e.StatusCode)
}

// Unwrap returns the sentinel error that the status code stands for, or nil.
func (e *Error) Unwrap() error {
	switch e.StatusCode {
	case http.StatusNotFound:
		return session.ErrNotFound
	case http.StatusConflict:
		return session.ErrExists
	case http.StatusBadRequest:
		return session.ErrInvalid
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusRequestEntityTooLarge:
		return ErrTooLarge
	case http.StatusUnsupportedMediaType:
		return ErrUnsupportedType
	case http.StatusServiceUnavailable:
		return session.ErrClosed
	}
	return nil
}

// AddRequest adds a torrent given by URI or by .torrent bytes, optionally
// into a download directory of the daemon's machine, and optionally paused.
func (c *Client) AddRequest(ctx context.Context, req session.AddRequest) (session.Status, error) {
	var st session.Status
	var err error
	selection := len(req.Files) > 0 || len(req.Only) > 0 || req.Sequential || req.FirstLastPieceFirst
	if len(req.Torrent) > 0 && !selection {
		if req.URI != "" {
			return st, fmt.Errorf("add: %w: both a URI and .torrent bytes given", session.ErrInvalid)
		}
		q := url.Values{}
		if req.DownloadDir != "" {
			q.Set("download_dir", req.DownloadDir)
		}
		if req.Paused {
			q.Set("paused", "true")
		}
		if req.Category != "" {
			q.Set("category", req.Category)
		}
		for _, t := range req.Tags {
			q.Add("tag", t)
		}
		path := "/api/v1/torrents"
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
		err = c.do(ctx, http.MethodPost, path, contentTorrent, bytes.NewReader(req.Torrent), &st)
	} else {
		if req.URI != "" && len(req.Torrent) > 0 {
			return st, fmt.Errorf("add: %w: both a URI and .torrent bytes given", session.ErrInvalid)
		}
		ab := AddBody{URI: req.URI, Torrent: req.Torrent, DownloadDir: req.DownloadDir, Paused: req.Paused,
			Category: req.Category, Tags: req.Tags,
			Only: req.Only, Sequential: req.Sequential, FirstLastPieceFirst: req.FirstLastPieceFirst}
		for i, p := range req.Files {
			if ab.Files == nil {
				ab.Files = make(map[string]string)
			}
			ab.Files[strconv.Itoa(i)] = p
		}
		body, _ := json.Marshal(ab)
		err = c.do(ctx, http.MethodPost, "/api/v1/torrents", contentJSON, bytes.NewReader(body), &st)
	}
	if err != nil {
		return session.Status{}, fmt.Errorf("add: %w", err)
	}
	fillETA(&st)
	return st, nil
}

// List returns the status of every torrent of the daemon.
func (c *Client) List(ctx context.Context) ([]session.Status, error) {
	var l []session.Status
	if err := c.do(ctx, http.MethodGet, "/api/v1/torrents", "", nil, &l); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	for i := range l {
		fillETA(&l[i])
	}
	return l, nil
}

// Get returns one torrent's details.
func (c *Client) Get(ctx context.Context, infoHash string) (session.Detail, error) {
	var d session.Detail
	if err := c.do(ctx, http.MethodGet, torrentPath(infoHash), "", nil, &d); err != nil {
		return session.Detail{}, fmt.Errorf("get %s: %w", infoHash, err)
	}
	fillETA(&d.Status)
	return d, nil
}

// Pause pauses a torrent.
func (c *Client) Pause(ctx context.Context, infoHash string) error {
	if err := c.do(ctx, http.MethodPost, torrentPath(infoHash)+"/pause", "", nil, nil); err != nil {
		return fmt.Errorf("pause %s: %w", infoHash, err)
	}
	return nil
}

// Resume resumes a paused torrent.
func (c *Client) Resume(ctx context.Context, infoHash string) error {
	if err := c.do(ctx, http.MethodPost, torrentPath(infoHash)+"/resume", "", nil, nil); err != nil {
		return fmt.Errorf("resume %s: %w", infoHash, err)
	}
	return nil
}

// Remove removes a torrent from the daemon, deleting its files when
// deleteData is set.
func (c *Client) Remove(ctx context.Context, infoHash string, deleteData bool) error {
	path := torrentPath(infoHash)
	if deleteData {
		path += "?delete_data=true"
	}
	if err := c.do(ctx, http.MethodDelete, path, "", nil, nil); err != nil {
		return fmt.Errorf("remove %s: %w", infoHash, err)
	}
	return nil
}

func torrentPath(infoHash string) string {
	return "/api/v1/torrents/" + url.PathEscape(infoHash)
}

// fillETA sets the Go-only ETA field from the JSON eta seconds.
func fillETA(st *session.Status) {
	if st.ETASeconds >= 0 {
		st.ETA = time.Duration(st.ETASeconds) * time.Second
	} else {
		st.ETA = -1
	}
}

// baseURL returns BaseURL with a scheme and without a trailing slash.
func (c *Client) baseURL() (string, error) {
	b := strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
	if b == "" {
		return "", errors.New("api client: no daemon address set")
	}
	if !strings.Contains(b, "://") {
		b = "http://" + b
	}
	u, err := url.Parse(b)
	if err != nil {
		return "", fmt.Errorf("api client: bad daemon address %q: %w", c.BaseURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("api client: bad daemon address %q: scheme must be http or https", c.BaseURL)
	}
	return b, nil
}

// do sends one request and decodes a JSON answer into out (when non-nil).
// A non-2xx answer becomes an *Error.
func (c *Client) do(ctx context.Context, method, path, contentType string, body io.Reader, out any) error {
	base, err := c.baseURL()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", contentJSON)
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: DefaultClientTimeout}
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop the repeated method and URL
		}
		return fmt.Errorf("gobit daemon at %s: %w", base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("reading answer of %s %s: %w", method, path, err)
	}
	if len(data) > maxResponseBytes {
		return fmt.Errorf("answer of %s %s is larger than %d bytes", method, path, maxResponseBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var eb ErrorBody
		if json.Unmarshal(data, &eb) != nil || eb.Error == "" {
			eb.Error = strings.TrimSpace(truncate(string(data), 200))
			if eb.Error == "" {
				eb.Error = http.StatusText(resp.StatusCode)
			}
		}
		return &Error{StatusCode: resp.StatusCode, Message: eb.Error}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the answer to %s %s is not what a gobit daemon sends (%s): is the address that of a gobit daemon?", method, path, describeJSONError(err))
	}
	return nil
}

// Recheck asks the daemon to hash a torrent's data again.
func (c *Client) Recheck(ctx context.Context, infoHash string) error {
	if err := c.do(ctx, http.MethodPost, torrentPath(infoHash)+"/recheck", "", nil, nil); err != nil {
		return fmt.Errorf("recheck %s: %w", infoHash, err)
	}
	return nil
}

// Move asks the daemon to move a torrent's files to dir (a path on the
// daemon's machine).
func (c *Client) Move(ctx context.Context, infoHash, dir string) error {
	body, _ := json.Marshal(MoveBody{Path: dir})
	if err := c.do(ctx, http.MethodPost, torrentPath(infoHash)+"/move", contentJSON, bytes.NewReader(body), nil); err != nil {
		return fmt.Errorf("move %s: %w", infoHash, err)
	}
	return nil
}

// SetFilePriorities changes the priorities of a torrent's files by file
// index ("skip", "low", "normal", "high") and returns its detail.
func (c *Client) SetFilePriorities(ctx context.Context, infoHash string, prio map[int]string) (session.Detail, error) {
	m := make(map[string]string, len(prio))
	for i, p := range prio {
		m[strconv.Itoa(i)] = p
	}
	raw, _ := json.Marshal(m)
	body, _ := json.Marshal(FilesBody{Priorities: raw})
	var d session.Detail
	if err := c.do(ctx, http.MethodPatch, torrentPath(infoHash)+"/files", contentJSON, bytes.NewReader(body), &d); err != nil {
		return session.Detail{}, fmt.Errorf("set file priorities: %w", err)
	}
	return d, nil
}

// Pieces returns a torrent's have-bitfield.
func (c *Client) Pieces(ctx context.Context, infoHash string) (session.PieceMap, error) {
	var pm session.PieceMap
	if err := c.do(ctx, http.MethodGet, torrentPath(infoHash)+"/pieces", "", nil, &pm); err != nil {
		return session.PieceMap{}, fmt.Errorf("pieces: %w", err)
	}
	return pm, nil
}

// RenameFile moves one of a torrent's files, by index, to newPath
// (relative to the save directory) and returns the torrent's detail.
func (c *Client) RenameFile(ctx context.Context, infoHash string, index int, newPath string) (session.Detail, error) {
	body, _ := json.Marshal(FileRenameBody{Path: newPath})
	var d session.Detail
	if err := c.do(ctx, http.MethodPatch, torrentPath(infoHash)+"/files/"+strconv.Itoa(index), contentJSON, bytes.NewReader(body), &d); err != nil {
		return session.Detail{}, fmt.Errorf("rename file %d: %w", index, err)
	}
	return d, nil
}

// RenamePath moves a file or folder of a torrent, by its path relative to
// the save directory, to a new path and returns the torrent's detail.
func (c *Client) RenamePath(ctx context.Context, infoHash, from, to string) (session.Detail, error) {
	body, _ := json.Marshal(RenameBody{From: from, To: to})
	var d session.Detail
	if err := c.do(ctx, http.MethodPost, torrentPath(infoHash)+"/rename", contentJSON, bytes.NewReader(body), &d); err != nil {
		return session.Detail{}, fmt.Errorf("rename %q: %w", from, err)
	}
	return d, nil
}
