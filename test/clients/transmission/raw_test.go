package transmission

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRawHTTP checks the handshake, authentication and error answers at
// the HTTP level, the same against gobit and transmission-daemon.
func TestRawHTTP(t *testing.T) {
	c := &http.Client{Timeout: 30 * time.Second}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			s := start(t, kind, "raw", "pw")
			post := func(body, id, user, pass string) (*http.Response, string) {
				t.Helper()
				req, _ := http.NewRequest(http.MethodPost, s.url(), strings.NewReader(body))
				if id != "" {
					req.Header.Set("X-Transmission-Session-Id", id)
				}
				if user != "" {
					req.SetBasicAuth(user, pass)
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				data, _ := io.ReadAll(resp.Body)
				return resp, string(data)
			}
			resp, _ := post(`{"method":"session-get"}`, "", "", "")
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Basic realm="Transmission"` {
				t.Fatalf("%s: no credentials: HTTP %d, %q", kind, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
			if resp, _ = post(`{"method":"session-get"}`, "", "raw", "bad"); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("%s: wrong password: HTTP %d", kind, resp.StatusCode)
			}
			resp, _ = post(`{"method":"session-get"}`, "", "raw", "pw")
			id := resp.Header.Get("X-Transmission-Session-Id")
			if resp.StatusCode != http.StatusConflict || id == "" {
				t.Fatalf("%s: no session id: HTTP %d, id %q", kind, resp.StatusCode, id)
			}
			if resp, _ = post(`{"method":"session-get"}`, id+"x", "raw", "pw"); resp.StatusCode != http.StatusConflict {
				t.Fatalf("%s: wrong session id: HTTP %d", kind, resp.StatusCode)
			}
			var got map[string]any
			resp, body := post(`{"method":"session-get","arguments":{"fields":["rpc-version","session-id"]},"tag":4711}`, id, "raw", "pw")
			if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil || got["result"] != "success" || got["tag"] != 4711.0 {
				t.Fatalf("%s: session-get: HTTP %d %s", kind, resp.StatusCode, body)
			}
			if args := got["arguments"].(map[string]any); args["session-id"] != id {
				t.Fatalf("%s: session-id %v, header %q", kind, args["session-id"], id)
			}
			resp, body = post(`{"method":"no-such-method","tag":9}`, id, "raw", "pw")
			got = nil
			if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil || got["result"] != "method name not recognized" || got["tag"] != 9.0 {
				t.Fatalf("%s: unknown method: HTTP %d %s", kind, resp.StatusCode, body)
			}
			resp, body = post(`{"method":"torrent-get","arguments":{"fields":["id"],"unknownArg":1},"tag":1}`, id, "raw", "pw")
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"result":"success"`) {
				t.Fatalf("%s: unknown argument: HTTP %d %s", kind, resp.StatusCode, body)
			}
			// Transmission 3's lenient parser runs a truncated request
			// anyway; gobit answers a JSON-RPC parse error, which classic
			// clients read as a failed result.
			resp, body = post(`{"method": "session-get",`, id, "raw", "pw")
			if kind == "gobit" && (resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"code":-32700`)) {
				t.Fatalf("%s: malformed JSON: HTTP %d %s", kind, resp.StatusCode, body)
			}
		})
	}
}
