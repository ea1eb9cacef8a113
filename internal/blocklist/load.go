package blocklist

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// IsURL reports whether src names an http or https URL rather than a file.
func IsURL(src string) bool {
	return strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")
}

// Load reads and parses the blocklist at src: a file path, or an http(s)
// URL fetched with client (http.DefaultClient if nil) under ctx.
func Load(ctx context.Context, src string, client *http.Client) (*List, Stats, error) {
	if !IsURL(src) {
		f, err := os.Open(src)
		if err != nil {
			return nil, Stats{}, fmt.Errorf("blocklist: %w", err)
		}
		defer f.Close()
		l, st, err := Parse(f)
		if err != nil {
			return nil, st, fmt.Errorf("%s: %w", src, err)
		}
		return l, st, nil
	}
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, Stats{}, fmt.Errorf("blocklist: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, Stats{}, fmt.Errorf("blocklist: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, Stats{}, fmt.Errorf("blocklist: %s: HTTP %s", src, resp.Status)
	}
	l, st, err := Parse(resp.Body)
	if err != nil {
		return nil, st, fmt.Errorf("%s: %w", src, err)
	}
	return l, st, nil
}
