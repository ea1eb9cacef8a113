package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
)

// waitEventsOutput waits until buf holds want, failing after a wide deadline.
func waitEventsOutput(t *testing.T, buf *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(buf.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output lacks %q after 20 s:\n%s", want, buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEventsCommand(t *testing.T) {
	clearEnv(t)
	fd, addr := startFakeDaemon(t, "tok")
	const hash = "aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111"
	if _, err := fd.Add(context.Background(), session.AddRequest{URI: "magnet:?xt=urn:btih:" + hash + "&dn=first"}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"events", "--addr", addr, "--api-token", "tok"}, &out, &errOut) }()
	waitEventsOutput(t, &out, "snapshot 1 torrents downloading 1\n")

	const hash2 = "bbbb2222bbbb2222bbbb2222bbbb2222bbbb2222"
	fd.Add(context.Background(), session.AddRequest{URI: "magnet:?xt=urn:btih:" + hash2 + "&dn=second"})
	waitEventsOutput(t, &out, "torrent-added "+hash2+" downloading second\n")
	fd.Pause(hash)
	waitEventsOutput(t, &out, "torrent-state "+hash+" downloading -> paused first\n")
	waitEventsOutput(t, &out, "session-stats 2 torrents down 3.0 MiB/s up 4.0 KiB/s peers 14 downloading 1 paused 1\n")
	fd.Remove(hash2, false)
	waitEventsOutput(t, &out, "torrent-removed "+hash2+"\n")
	if n := strings.Count(out.String(), "\n"); n != 5 {
		t.Errorf("%d lines, want one per event:\n%s", n, out.String())
	}

	// Interrupted: a clean exit.
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit %d after an interrupt: %s", c, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("events did not stop when interrupted")
	}

	// --json: one object a line; the daemon ending the stream is an error.
	var jout, jerr syncBuffer
	go func() {
		code <- run(context.Background(), []string{"events", "--json", "--addr", addr, "--api-token", "tok"}, &jout, &jerr)
	}()
	waitEventsOutput(t, &jout, "\n")
	var first struct {
		Event string           `json:"event"`
		ID    uint64           `json:"id"`
		Data  session.Snapshot `json:"data"`
	}
	line, _, _ := strings.Cut(jout.String(), "\n")
	if err := json.Unmarshal([]byte(line), &first); err != nil || first.Event != "snapshot" || len(first.Data.Torrents) != 1 || first.Data.Torrents[0].InfoHash != hash {
		t.Errorf("first JSON line %q: %+v %v", line, first, err)
	}
	fd.CloseEvents()
	select {
	case c := <-code:
		if c != exitFailure || !strings.Contains(jerr.String(), "ended the event stream") {
			t.Errorf("stream ended by the daemon: exit %d, stderr %q", c, jerr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("events did not stop when the daemon ended the stream")
	}

	// A wrong token: the usual hint.
	_, errOut2, c := gobit(t, "events", "--addr", addr, "--api-token", "nope")
	if c != exitFailure || !strings.Contains(errOut2, "--api-token") {
		t.Errorf("wrong token: exit %d, stderr %q", c, errOut2)
	}
}
