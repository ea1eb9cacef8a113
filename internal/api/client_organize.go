package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gobit/gobit/internal/session"
)

// ListFiltered returns the daemon's torrents that f selects.
func (c *Client) ListFiltered(ctx context.Context, f session.ListFilter) ([]session.Status, error) {
	q := url.Values{}
	if f.Category != nil {
		q.Set("category", *f.Category)
	}
	for _, t := range f.Tags {
		q.Add("tag", t)
	}
	path := "/api/v1/torrents"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var l []session.Status
	if err := c.do(ctx, http.MethodGet, path, "", nil, &l); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	for i := range l {
		fillETA(&l[i])
	}
	return l, nil
}

// UpdateTorrent changes a torrent's limits, category or tags.
func (c *Client) UpdateTorrent(ctx context.Context, infoHash string, u session.TorrentUpdate) (session.Status, error) {
	body, err := json.Marshal(u)
	if err != nil {
		return session.Status{}, err
	}
	var st session.Status
	if err := c.do(ctx, http.MethodPatch, torrentPath(infoHash), contentJSON, bytes.NewReader(body), &st); err != nil {
		return session.Status{}, fmt.Errorf("update %s: %w", infoHash, err)
	}
	fillETA(&st)
	return st, nil
}

// Categories returns the daemon's categories.
func (c *Client) Categories(ctx context.Context) ([]session.Category, error) {
	var l []session.Category
	if err := c.do(ctx, http.MethodGet, "/api/v1/categories", "", nil, &l); err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	return l, nil
}

// AddCategory creates a category.
func (c *Client) AddCategory(ctx context.Context, cat session.Category) (session.Category, error) {
	body, _ := json.Marshal(cat)
	var out session.Category
	if err := c.do(ctx, http.MethodPost, "/api/v1/categories", contentJSON, bytes.NewReader(body), &out); err != nil {
		return session.Category{}, fmt.Errorf("add category %q: %w", cat.Name, err)
	}
	return out, nil
}

// UpdateCategory renames a category or changes its save path.
func (c *Client) UpdateCategory(ctx context.Context, name string, u session.CategoryUpdate) (session.Category, error) {
	body, _ := json.Marshal(u)
	var out session.Category
	if err := c.do(ctx, http.MethodPatch, "/api/v1/categories/"+url.PathEscape(name), contentJSON, bytes.NewReader(body), &out); err != nil {
		return session.Category{}, fmt.Errorf("change category %q: %w", name, err)
	}
	return out, nil
}

// RemoveCategory deletes a category.
func (c *Client) RemoveCategory(ctx context.Context, name string) error {
	if err := c.do(ctx, http.MethodDelete, "/api/v1/categories/"+url.PathEscape(name), "", nil, nil); err != nil {
		return fmt.Errorf("remove category %q: %w", name, err)
	}
	return nil
}

// Tags returns the tags in use on the daemon.
func (c *Client) Tags(ctx context.Context) ([]session.TagInfo, error) {
	var l []session.TagInfo
	if err := c.do(ctx, http.MethodGet, "/api/v1/tags", "", nil, &l); err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}
	return l, nil
}

// RenameTag renames a tag on every torrent.
func (c *Client) RenameTag(ctx context.Context, name, to string) error {
	body, _ := json.Marshal(TagRenameBody{Name: to})
	if err := c.do(ctx, http.MethodPatch, "/api/v1/tags/"+url.PathEscape(name), contentJSON, bytes.NewReader(body), nil); err != nil {
		return fmt.Errorf("rename tag %q: %w", name, err)
	}
	return nil
}

// RemoveTag takes a tag off every torrent.
func (c *Client) RemoveTag(ctx context.Context, name string) error {
	if err := c.do(ctx, http.MethodDelete, "/api/v1/tags/"+url.PathEscape(name), "", nil, nil); err != nil {
		return fmt.Errorf("remove tag %q: %w", name, err)
	}
	return nil
}

// MoveInQueue moves a torrent in the queue.
func (c *Client) MoveInQueue(ctx context.Context, infoHash string, move session.QueueMove) error {
	body, _ := json.Marshal(QueueBody{Move: move})
	if err := c.do(ctx, http.MethodPost, torrentPath(infoHash)+"/queue", contentJSON, bytes.NewReader(body), nil); err != nil {
		return fmt.Errorf("queue %s: %w", infoHash, err)
	}
	return nil
}

// ForceStart starts a torrent whatever the queue limits.
func (c *Client) ForceStart(ctx context.Context, infoHash string) error {
	if err := c.do(ctx, http.MethodPost, torrentPath(infoHash)+"/force-start", "", nil, nil); err != nil {
		return fmt.Errorf("force-start %s: %w", infoHash, err)
	}
	return nil
}
