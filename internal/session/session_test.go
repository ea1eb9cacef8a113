package session

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/metainfo"
)

func newTestSession(t *testing.T) *Session {
	t.Helper()
	s, err := New(Config{DownloadDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func makeTorrent(t *testing.T) ([]byte, *metainfo.MetaInfo) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.bin")
	if err := os.WriteFile(p, bytes.Repeat([]byte("gobit"), 20000), 0o644); err != nil {
		t.Fatal(err)
	}
	data, mi, err := metainfo.Create(metainfo.CreateOptions{Path: p})
	if err != nil {
		t.Fatal(err)
	}
	return data, mi
}

func TestAddErrors(t *testing.T) {
	s := newTestSession(t)
	data, _ := makeTorrent(t)
	tests := []struct {
		name string
		req  AddRequest
		want error
		msg  string
	}{
		{"empty", AddRequest{}, ErrInvalid, "nothing to add"},
		{"both", AddRequest{URI: "magnet:?xt=urn:btih:" + strings.Repeat("a", 40), Torrent: data}, ErrInvalid, "not both"},
		{"bad magnet", AddRequest{URI: "magnet:?xt=urn:btih:zz"}, ErrInvalid, "info hash"},
		{"not a uri", AddRequest{URI: "ftp://x/y.torrent"}, ErrInvalid, "neither a magnet"},
		{"garbage torrent", AddRequest{Torrent: []byte("d4:infoi1ee")}, ErrInvalid, "not a valid .torrent file"},
		{"not a torrent", AddRequest{Torrent: []byte("<html>hello</html>")}, ErrInvalid, "not a .torrent file (it does not start with a bencoded dictionary)"},
	}
	for _, tt := range tests {
		_, err := s.Add(context.Background(), tt.req)
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: err %v, want %v containing %q", tt.name, err, tt.want, tt.msg)
		}
	}
	if n := len(s.List()); n != 0 {
		t.Fatalf("failed adds left %d torrents", n)
	}
}

func TestAddByURLAndDuplicates(t *testing.T) {
	s := newTestSession(t)
	data, mi := makeTorrent(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/x.torrent":
			w.Write(data)
		case "/huge.torrent":
			w.Write(bytes.Repeat([]byte("x"), maxTorrentFetch+10))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	st, err := s.Add(context.Background(), AddRequest{URI: srv.URL + "/x.torrent", Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.InfoHash != mi.InfoHash.String() {
		t.Fatalf("added %s, want %s", st.InfoHash, mi.InfoHash)
	}
	// The same torrent again, by bytes or by magnet: ErrExists.
	if _, err := s.Add(context.Background(), AddRequest{Torrent: data}); !errors.Is(err, ErrExists) {
		t.Errorf("re-add by bytes: %v", err)
	}
	m := mi.Magnet()
	if _, err := s.Add(context.Background(), AddRequest{URI: m.String()}); !errors.Is(err, ErrExists) {
		t.Errorf("re-add by magnet: %v", err)
	}
	for _, path := range []string{"/missing.torrent", "/huge.torrent"} {
		if _, err := s.Add(context.Background(), AddRequest{URI: srv.URL + path}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", path, err)
		}
	}
	// Unknown and malformed hashes.
	if _, err := s.Get(strings.Repeat("b", 40)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown hash: %v", err)
	}
	if err := s.Pause("xyz"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad hash: %v", err)
	}
	if err := s.Remove(st.InfoHash, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(st.InfoHash, false); !errors.Is(err, ErrNotFound) {
		t.Errorf("second remove: %v", err)
	}
}
