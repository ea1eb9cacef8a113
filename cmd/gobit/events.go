package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/gobit/gobit/internal/api"
	"github.com/gobit/gobit/internal/session"
	"github.com/spf13/cobra"
)

func newEventsCmd() *cobra.Command {
	var o remoteOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Print a running daemon's events as they happen",
		Long: `Print a running daemon's events as they happen, one line each, until
interrupted: first a snapshot of the torrent list, then torrents added,
removed and changing state, their progress (at most once a second each)
and the session's totals (every second). With --json each line is a JSON
object {"event": type, "id": number, "data": the event's data}, as
described in docs/api.md, for scripts.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			for ev, err := range o.client().Events(cmd.Context()) {
				if err != nil {
					if errors.Is(err, session.ErrOverflow) {
						return fmt.Errorf("%w (the daemon drops streams that fall behind; read faster or filter less)", err)
					}
					return remoteError(&o, err)
				}
				if asJSON {
					line, err := json.Marshal(struct {
						Event string          `json:"event"`
						ID    uint64          `json:"id"`
						Data  json.RawMessage `json:"data"`
					}{ev.Type, ev.ID, ev.Data})
					if err != nil {
						return fmt.Errorf("event %s: %w", ev.Type, err)
					}
					fmt.Fprintf(w, "%s\n", line)
					continue
				}
				if err := printEvent(w, ev); err != nil {
					return err
				}
			}
			return nil
		},
	}
	addRemoteFlags(cmd, &o)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print each event as one JSON object per line")
	return cmd
}

// printEvent prints one event as a line of words: its type, the torrent's
// hash and what changed.
func printEvent(w io.Writer, ev api.Event) error {
	var line string
	switch session.EventType(ev.Type) {
	case session.EventSnapshot:
		var s session.Snapshot
		if err := ev.Decode(&s); err != nil {
			return err
		}
		line = fmt.Sprintf("%d torrents%s", len(s.Torrents), eventStatesSummary(s.Stats))
	case session.EventAdded:
		var st session.Status
		if err := ev.Decode(&st); err != nil {
			return err
		}
		line = fmt.Sprintf("%s %s %s", st.InfoHash, st.State, eventTorrentName(st.Name))
	case session.EventRemoved:
		var r session.TorrentRemoved
		if err := ev.Decode(&r); err != nil {
			return err
		}
		line = r.InfoHash
	case session.EventState:
		var c session.StateChange
		if err := ev.Decode(&c); err != nil {
			return err
		}
		line = fmt.Sprintf("%s %s -> %s %s", c.InfoHash, c.PreviousState, c.State, eventTorrentName(c.Name))
		if c.Error != "" {
			line += ": " + c.Error
		}
	case session.EventProgress:
		var p session.Progress
		if err := ev.Decode(&p); err != nil {
			return err
		}
		line = fmt.Sprintf("%s %s %s down %s up %s peers %d eta %s", p.InfoHash, p.State, fmtPercent(p.Progress),
			fmtRate(p.DownloadRate), fmtRate(p.UploadRate), p.Peers, fmtETA(p.ETASeconds))
	case session.EventStats:
		var s session.SessionStats
		if err := ev.Decode(&s); err != nil {
			return err
		}
		line = fmt.Sprintf("%d torrents down %s up %s peers %d%s", s.Torrents, fmtRate(s.DownloadRate),
			fmtRate(s.UploadRate), s.Peers, eventStatesSummary(s))
	case api.EventOverflow:
		var eb api.ErrorBody
		_ = ev.Decode(&eb)
		line = eb.Error
	default:
		line = string(ev.Data) // a newer daemon's event
	}
	_, err := fmt.Fprintf(w, "%s %s\n", ev.Type, strings.TrimSpace(line))
	return err
}

// eventStatesSummary lists the non-zero counts of torrents by state, in
// alphabetical order of the states.
func eventStatesSummary(s session.SessionStats) string {
	var b strings.Builder
	for _, st := range slices.Sorted(maps.Keys(s.States)) {
		if n := s.States[st]; n > 0 {
			fmt.Fprintf(&b, " %s %d", st, n)
		}
	}
	return b.String()
}

func eventTorrentName(name string) string {
	if name == "" {
		return "(name not known yet)"
	}
	return name
}
