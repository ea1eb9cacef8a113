package api

import (
	"context"
	"errors"
	"github.com/gobit/gobit/internal/api/apitest"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
)

func newTestClient(t *testing.T, token string) (*Client, *apitest.Backend) {
	t.Helper()
	fb := apitest.New()
	srv := httptest.NewServer(NewHandler(fb, Options{Token: token}))
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL, Token: token}, fb
}

func TestClientRoundTrips(t *testing.T) {
	ctx := context.Background()
	c, fb := newTestClient(t, "tok")

	st, err := c.AddRequest(ctx, session.AddRequest{URI: magnetA})
	if err != nil {
		t.Fatal(err)
	}
	if st.InfoHash != hashA || st.Name != "ubuntu.iso" || st.ETA != 90*time.Second {
		t.Errorf("Add = %+v", st)
	}
	if _, err := c.AddRequest(ctx, session.AddRequest{URI: magnetA}); !errors.Is(err, session.ErrExists) {
		t.Errorf("second Add: %v, want ErrExists", err)
	}
	if _, err := c.AddRequest(ctx, session.AddRequest{URI: "magnet:?xt=urn:btih:bad"}); !errors.Is(err, session.ErrInvalid) {
		t.Errorf("bad magnet: %v, want ErrInvalid", err)
	}

	data := []byte("d4:infod4:name1:xee")
	st2, err := c.AddRequest(ctx, session.AddRequest{Torrent: data})
	if err != nil {
		t.Fatal(err)
	}
	if got := fb.LastAdd(); string(got.Torrent) != string(data) || got.URI != "" {
		t.Errorf("backend got %+v", got)
	}
	if _, err := c.AddRequest(ctx, session.AddRequest{URI: "https://example.org/a.torrent", DownloadDir: "/srv/dl"}); err != nil {
		t.Fatal(err)
	}
	if got := fb.LastAdd(); got.DownloadDir != "/srv/dl" || got.URI != "https://example.org/a.torrent" {
		t.Errorf("backend got %+v", got)
	}
	if _, err := c.AddRequest(ctx, session.AddRequest{Torrent: []byte("d1:ae"), DownloadDir: "/srv/t"}); err != nil {
		t.Fatal(err)
	}
	if got := fb.LastAdd(); got.DownloadDir != "/srv/t" {
		t.Errorf("raw upload lost download dir: %+v", got)
	}

	l, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 4 || l[0].InfoHash != hashA || l[1].InfoHash != st2.InfoHash {
		t.Fatalf("List = %+v", l)
	}

	d, err := c.Get(ctx, strings.ToUpper(hashA))
	if err != nil {
		t.Fatal(err)
	}
	if d.InfoHash != hashA || len(d.Files) != 1 || d.Files[0].Path != "a.bin" {
		t.Errorf("Get = %+v", d)
	}

	if err := c.Pause(ctx, hashA); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.Get(ctx, hashA); d.State != session.StatePaused {
		t.Errorf("state after Pause = %s", d.State)
	}
	if err := c.Resume(ctx, hashA); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.Get(ctx, hashA); d.State != session.StateDownloading {
		t.Errorf("state after Resume = %s", d.State)
	}
	if err := c.Remove(ctx, hashA, true); err != nil {
		t.Fatal(err)
	}
	if !fb.Removed[hashA] {
		t.Error("Remove did not pass deleteData")
	}
	if err := c.Remove(ctx, st2.InfoHash, false); err != nil {
		t.Fatal(err)
	}
	if del, ok := fb.Removed[st2.InfoHash]; !ok || del {
		t.Error("Remove(false) deleted data or did not remove")
	}

	// Errors carry the server's message and match the sentinels.
	_, err = c.Get(ctx, hashA)
	var ae *Error
	if !errors.As(err, &ae) || ae.StatusCode != 404 || !strings.Contains(ae.Message, "not found") {
		t.Errorf("Get removed: %v", err)
	}
	if !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Get removed: %v is not ErrNotFound", err)
	}
	if err := c.Pause(ctx, "zz"); !errors.As(err, &ae) || ae.StatusCode != 400 || !strings.Contains(ae.Message, "40 hexadecimal") {
		t.Errorf("Pause bad hash: %v", err)
	}
}

func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestClient(t, "right")

	wrong := *c
	wrong.Token = "wrong"
	if _, err := wrong.List(ctx); !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "wrong API token") {
		t.Errorf("wrong token: %v", err)
	}
	none := *c
	none.Token = ""
	if _, err := none.List(ctx); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("no token: %v", err)
	}

	// A bare host:port works as a base URL.
	bare := *c
	bare.BaseURL = strings.TrimPrefix(c.BaseURL, "http://") + "/"
	if _, err := bare.List(ctx); err != nil {
		t.Errorf("bare host:port: %v", err)
	}

	for _, base := range []string{"", "ftp://x", "http://[::1"} {
		bad := Client{BaseURL: base}
		if _, err := bad.List(ctx); err == nil {
			t.Errorf("BaseURL %q: no error", base)
		}
	}

	// A daemon that is not running gives a connection error naming it.
	srv := httptest.NewServer(nil)
	addr := srv.URL
	srv.Close()
	down := Client{BaseURL: addr}
	if _, err := down.List(ctx); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("daemon down: %v", err)
	}

	if _, err := c.AddRequest(ctx, session.AddRequest{URI: magnetA, Torrent: []byte("d")}); !errors.Is(err, session.ErrInvalid) {
		t.Errorf("URI and torrent: %v", err)
	}
}

var _ Backend = (*apitest.Backend)(nil)
