package qbittorrent

import (
	"bytes"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/testutil"
)

// FuzzReadForm feeds hostile bodies to the form decoding and the add
// parameters: any error is fine, a panic or an unbounded read is not.
func FuzzReadForm(f *testing.F) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("urls", "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567\nhttp://x/y.torrent")
	mw.WriteField("upLimit", "100")
	mw.WriteField("seedingTimeLimit", "-5")
	fw, _ := mw.CreateFormFile("torrents", "a.torrent")
	fw.Write([]byte("d4:infod4:name1:aee"))
	mw.Close()
	f.Add(buf.Bytes(), mw.FormDataContentType(), "hashes=all")
	f.Add([]byte("hashes=a|b&category=&tags=x,,y&ratioLimit=NaN"), "application/x-www-form-urlencoded", "")
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n--b--"), "multipart/form-data; boundary=b", "rid=%zz")
	f.Add([]byte{}, "multipart/form-data", "")
	f.Fuzz(func(t *testing.T, body []byte, ctype, query string) {
		req := httptest.NewRequest(http.MethodPost, "/api/v2/torrents/add", bytes.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", ctype)
		frm, err := readForm(httptest.NewRecorder(), req)
		if err != nil {
			return
		}
		n := 0
		for _, ff := range frm.files {
			n += len(ff.data)
		}
		if n > len(body) || len(frm.files) > maxFormFiles {
			t.Fatalf("%d file bytes in %d files from a %d-byte body", n, len(frm.files), len(body))
		}
		o, err := parseAdd(frm, "/save")
		if err == nil && len(o.urls) > maxAddURLs {
			t.Fatalf("%d URLs", len(o.urls))
		}
		parseHashes(frm.get("hashes"))
		_ = frm.list("tags", ",")
		_, _ = frm.float("ratioLimit")
		_, _ = frm.integer("limit")
	})
}

// FuzzRoutes sends hostile parameters to every route of a handler with a
// torrent, but torrents/add (whose URLs would be fetched; its parameters
// are FuzzReadForm's) and the routes that take a directory (which would
// create it wherever the fuzzer says): any status is fine, a panic is not.
func FuzzRoutes(f *testing.F) {
	e := newEnv(f, Options{})
	raw, hash := testutil.BigTorrent(f, "fuzz", 3)
	if code, body := e.multipartAdd(map[string]string{"paused": "true"}, raw); body != "Ok." {
		f.Fatalf("add: %d %s", code, body)
	}
	names := slices.Sorted(maps.Keys(e.srv.Config.Handler.(*Handler).routes))
	names = slices.DeleteFunc(names, func(s string) bool {
		return slices.Contains([]string{"torrents/add", "auth/logout", "torrents/setLocation", "torrents/createCategory", "torrents/editCategory"}, s)
	})
	h := e.srv.Config.Handler
	f.Add(uint8(0), "hash="+hash+"&hashes="+hash+"&id=0|1&priority=7", "")
	f.Add(uint8(3), "hashes=all&limit=-1&value=true", "json={\"max_ratio\":1e309}")
	f.Add(uint8(9), "rid=-5&filter=active&sort=name&offset=-99999999999&limit=3", "category=%FF&tags=,,")
	f.Fuzz(func(t *testing.T, route uint8, query, body string) {
		name := names[int(route)%len(names)]
		req := httptest.NewRequest(http.MethodPost, Prefix+name, strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusInternalServerError && !strings.Contains(rec.Body.String(), "closed") {
			t.Logf("%s: 500 %s", name, rec.Body.String())
		}
	})
}
