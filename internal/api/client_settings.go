package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gobit/gobit/internal/session"
)

// Settings returns the daemon's session-wide settings (GET
// /api/v1/session). It is the cheapest authenticated request, so health
// checks use it.
func (c *Client) Settings(ctx context.Context) (session.Settings, error) {
	var st session.Settings
	if err := c.do(ctx, http.MethodGet, "/api/v1/session", "", nil, &st); err != nil {
		return session.Settings{}, fmt.Errorf("session settings: %w", err)
	}
	return st, nil
}
