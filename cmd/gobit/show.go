package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/gobit/gobit/internal/session"
	"github.com/spf13/cobra"
)

func newShowCmd() *cobra.Command {
	var o remoteOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show <info-hash>...",
		Short: "Show one torrent of a running daemon in detail: files, trackers, peers",
		Long: `Show torrents of a running daemon in detail: state, progress, sizes, rates,
ratio, save directory and error; each file with its progress; each tracker
with its status, last error, last and next announce and the peers it
reported; and the connected peers. A torrent is given by its info hash or
a unique prefix of it (as 'gobit ls' shows).`,
		Args: argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := o.client()
			w := cmd.OutOrStdout()
			var errs []error
			for i, arg := range args {
				h, err := resolveHash(cmd.Context(), c, arg)
				if err != nil {
					errs = append(errs, remoteError(&o, err))
					continue
				}
				d, err := c.Get(cmd.Context(), h)
				if err != nil {
					errs = append(errs, remoteError(&o, err))
					continue
				}
				if asJSON {
					enc := json.NewEncoder(w)
					enc.SetIndent("", "  ")
					if err := enc.Encode(d); err != nil {
						return err
					}
					continue
				}
				if i > 0 {
					fmt.Fprintln(w)
				}
				if err := printDetail(w, d, time.Now()); err != nil {
					return err
				}
			}
			return errors.Join(errs...)
		},
	}
	addRemoteFlags(cmd, &o)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the daemon's JSON instead of text")
	return cmd
}

// printDetail prints one torrent's detail; times are shown relative to now.
// Every string that came from a .torrent, a peer or a tracker is cleaned of
// control characters first, so that none can drive the terminal.
func printDetail(w io.Writer, d session.Detail, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	field := func(name, format string, args ...any) {
		fmt.Fprintf(tw, "%s:\t"+format+"\n", append([]any{name}, args...)...)
	}
	name := d.Name
	if name == "" {
		name = "(not known yet)"
	}
	field("Name", "%s", printable(name))
	field("Info hash", "%s", d.InfoHash)
	state := string(d.State)
	if d.Finished {
		state += " (seeding limit reached)"
	}
	field("State", "%s", state)
	if d.Error != "" {
		field("Error", "%s", printable(d.Error))
	}
	if d.Pieces > 0 {
		field("Progress", "%s  (%s of %s, %d pieces of %s)", fmtPercent(d.Progress),
			fmtBytes(d.Completed), fmtBytes(d.TotalSize), d.Pieces, fmtBytes(d.PieceLength))
	} else {
		field("Progress", "%s  (size not known yet)", fmtPercent(d.Progress))
	}
	eta := "-"
	if d.State == session.StateDownloading {
		eta = fmtETA(d.ETASeconds)
	}
	field("Rates", "down %s  up %s  ETA %s", fmtRate(d.DownloadRate), fmtRate(d.UploadRate), eta)
	field("Transferred", "down %s  up %s  ratio %.2f", fmtBytes(d.Downloaded), fmtBytes(d.Uploaded), d.Ratio)
	field("Peers", "%d connected (%d seeds)", d.Peers, d.Seeds)
	field("Saved in", "%s", printable(d.SaveDir))
	if d.Category != "" || len(d.Tags) > 0 {
		field("Category", "%s  tags: %s", printable(orDash(d.Category)), printable(orDash(strings.Join(d.Tags, ", "))))
	}
	if !d.AddedAt.IsZero() {
		field("Added", "%s (%s)", d.AddedAt.Local().Format("2006-01-02 15:04:05"), fmtWhen(d.AddedAt, now))
	}
	if lim := limitsLine(d.Status); lim != "" {
		field("Limits", "%s", lim)
	}
	if d.Magnet != "" {
		field("Magnet", "%s", printable(d.Magnet))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nFiles (%d):\n", len(d.Files))
	if len(d.Files) == 0 {
		fmt.Fprintln(w, "  none known yet")
	} else {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "  DONE\tSIZE\t\tPATH")
		for _, f := range d.Files {
			fmt.Fprintf(tw, "  %s\t%s\t\t%s\n", fmtPercent(f.Progress), fmtBytes(f.Size), printable(f.Path))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprintf(w, "\nTrackers (%d):\n", len(d.Trackers))
	if len(d.Trackers) == 0 {
		fmt.Fprintln(w, "  none (peers come from the DHT, PEX and local discovery)")
	} else {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  TIER\tSTATUS\tPEERS\tSEEDS\tLEECHERS\tLAST ANNOUNCE\tNEXT ANNOUNCE\tURL")
		for _, tr := range d.Trackers {
			fmt.Fprintf(tw, "  %d\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", tr.Tier, printable(tr.Status), tr.Peers, tr.Seeders, tr.Leechers,
				fmtWhen(tr.LastTime, now), fmtWhen(tr.NextTime, now), printable(tr.URL))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		// Errors below the table: a line of another shape inside it would
		// break its columns.
		for _, tr := range d.Trackers {
			if tr.Error != "" {
				fmt.Fprintf(w, "  last error of %s: %s\n", printable(tr.URL), printable(tr.Error))
			}
		}
	}

	fmt.Fprintf(w, "\nPeers (%d):\n", len(d.PeerList))
	if len(d.PeerList) == 0 {
		fmt.Fprintln(w, "  none connected")
		return nil
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ADDRESS\tCLIENT\tNET\tENCRYPTION\tFLAGS\tDONE\tDOWN\tUP\tSOURCE")
	for _, p := range d.PeerList {
		client := printable(p.Client)
		if client == "" {
			client = "?"
		}
		flags := printable(p.Flags)
		if flags == "" {
			flags = "-"
		}
		src := p.Source
		if p.Outgoing {
			src += ", out"
		} else {
			src += ", in"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", printable(p.Addr), shorten(client, 30),
			peerNet(p), peerEncryption(p), flags, fmtPercent(p.Progress), fmtRate(p.DownloadRate), fmtRate(p.UploadRate), printable(src))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "  flags: D downloading from / d want to but choked, U uploading to / u they want but choked,")
	fmt.Fprintln(w, "         S snubbed, E Fast extension, X extension protocol")
	fmt.Fprintln(w, "  encryption: RC4 stream, MSE-plain (encrypted handshake, plain stream) or none")
	return nil
}

// peerNet names a peer connection's transport and IP version, as "TCP/IPv4"
// or "uTP/IPv6"; "?" stands for what an older daemon does not report.
func peerNet(p session.PeerStatus) string {
	tr := "?"
	switch p.Transport {
	case "tcp":
		tr = "TCP"
	case "utp":
		tr = "uTP"
	}
	ip := "?"
	if p.IPVersion == 4 || p.IPVersion == 6 {
		ip = fmt.Sprintf("IPv%d", p.IPVersion)
	}
	return tr + "/" + ip
}

// peerEncryption names a peer connection's encryption.
func peerEncryption(p session.PeerStatus) string {
	switch {
	case p.Encryption == "rc4", p.Encryption == "" && p.Encrypted:
		return "RC4"
	case p.Encryption == "plaintext":
		return "MSE-plain"
	case p.Encryption == "none":
		return "none"
	}
	return "?"
}

// limitsLine describes a torrent's own limits, or "" when it has none.
func limitsLine(s session.Status) string {
	var parts []string
	if s.DownloadLimit > 0 {
		parts = append(parts, "down "+fmtRate(s.DownloadLimit))
	}
	if s.UploadLimit > 0 {
		parts = append(parts, "up "+fmtRate(s.UploadLimit))
	}
	if s.RatioLimit > 0 {
		parts = append(parts, fmt.Sprintf("ratio %.2f", s.RatioLimit))
	}
	if s.SeedTimeLimit > 0 {
		parts = append(parts, "seed time "+fmtETA(s.SeedTimeLimit))
	}
	return strings.Join(parts, "  ")
}

// fmtWhen formats t relative to now ("12s ago", "in 29m48s"); "-" for the
// zero time.
func fmtWhen(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t).Round(time.Second)
	switch {
	case d == 0:
		return "now"
	case d > 0:
		return fmtETA(int64(d/time.Second)) + " ago"
	}
	return "in " + fmtETA(int64(-d/time.Second))
}

// printable replaces control characters (which could move the cursor or
// change the terminal's state) with U+FFFD.
func printable(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}
