package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/spf13/cobra"
)

func newInfoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "info <file.torrent | magnet | URL>",
		Short: "Show what a .torrent file or magnet link holds",
		Long: `Show what a .torrent file (a path, or an http(s) URL to fetch) holds: name,
info hash, size, pieces, trackers, web seeds and files. For a magnet link,
show what the link carries.`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInfo(cmd.Context(), args[0], cmd.OutOrStdout())
		},
	}
}

func runInfo(ctx context.Context, arg string, w io.Writer) error {
	arg = magnetFromHash(arg)
	switch classify(arg) {
	case sourceMagnet:
		m, err := metainfo.ParseMagnet(strings.TrimSpace(arg))
		if err != nil {
			return err
		}
		return printMagnet(w, m)
	case sourceURL:
		data, err := fetchTorrent(ctx, strings.TrimSpace(arg))
		if err != nil {
			return err
		}
		mi, err := checkTorrent(strings.TrimSpace(arg), data)
		if err != nil {
			return err
		}
		return printMetaInfo(w, mi)
	}
	_, mi, err := loadTorrentFile(arg)
	if err != nil {
		return err
	}
	return printMetaInfo(w, mi)
}

// field writes "label: value" lines with aligned values.
type fieldWriter struct{ tw *tabwriter.Writer }

func newFieldWriter(w io.Writer) *fieldWriter {
	return &fieldWriter{tw: tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)}
}

func (f *fieldWriter) field(label, value string) {
	fmt.Fprintf(f.tw, "%s:\t%s\n", label, value)
}

func (f *fieldWriter) flush() error { return f.tw.Flush() }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func sizeWithBytes(n int64) string {
	return fmt.Sprintf("%s (%s bytes)", fmtBytes(n), strconv.FormatInt(n, 10))
}

// printMetaInfo prints a parsed .torrent file.
func printMetaInfo(w io.Writer, mi *metainfo.MetaInfo) error {
	info := &mi.Info
	fw := newFieldWriter(w)
	fw.field("Name", oneLine(info.Name))
	fw.field("Info hash", mi.InfoHash.String())
	fw.field("Total size", sizeWithBytes(info.TotalLength()))
	fw.field("Piece length", sizeWithBytes(info.PieceLength))
	fw.field("Pieces", strconv.Itoa(info.NumPieces()))
	fw.field("Private", yesNo(info.Private))
	if info.Source != "" {
		fw.field("Source", info.Source)
	}
	if mi.Comment != "" {
		fw.field("Comment", oneLine(mi.Comment))
	}
	if mi.CreatedBy != "" {
		fw.field("Created by", oneLine(mi.CreatedBy))
	}
	if mi.CreationDate > 0 {
		fw.field("Created on", time.Unix(mi.CreationDate, 0).UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	fw.field("Magnet", mi.Magnet().String())
	if err := fw.flush(); err != nil {
		return err
	}

	tiers := mi.Trackers()
	if len(tiers) == 0 {
		fmt.Fprintln(w, "Trackers: none")
	} else {
		fmt.Fprintln(w, "Trackers:")
		for i, tier := range tiers {
			for j, u := range tier {
				label := fmt.Sprintf("tier %d:", i+1)
				if j > 0 {
					label = strings.Repeat(" ", len(label))
				}
				fmt.Fprintf(w, "  %s %s\n", label, oneLine(u))
			}
		}
	}
	if len(mi.URLList) > 0 {
		fmt.Fprintln(w, "Web seeds:")
		for _, u := range mi.URLList {
			fmt.Fprintf(w, "  %s\n", oneLine(u))
		}
	}

	var files []metainfo.FileEntry
	pads := 0
	for _, fe := range info.FileEntries() {
		if fe.Pad {
			pads++
			continue
		}
		files = append(files, fe)
	}
	header := fmt.Sprintf("Files (%d)", len(files))
	if pads > 0 {
		header += fmt.Sprintf(", plus %d padding files", pads)
	}
	fmt.Fprintln(w, header+":")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for i, fe := range files {
		// The index is the one file priorities and 'add --only' take.
		fmt.Fprintf(tw, "  %d\t  %s\t  %s\n", i, fmtBytes(fe.Length), oneLine(fe.Path))
	}
	return tw.Flush()
}

// printMagnet prints what a magnet link carries.
func printMagnet(w io.Writer, m *metainfo.Magnet) error {
	fw := newFieldWriter(w)
	fw.field("Magnet link", "metadata not included; 'gobit download' fetches it from peers")
	fw.field("Info hash", m.InfoHash.String())
	name := m.Name
	if name == "" {
		name = "(none)"
	}
	fw.field("Name", oneLine(name))
	if m.Length > 0 {
		fw.field("Total size", sizeWithBytes(m.Length))
	}
	if len(m.SelectOnly) > 0 {
		idx := make([]string, len(m.SelectOnly))
		for i, n := range m.SelectOnly {
			idx[i] = strconv.Itoa(n)
		}
		fw.field("Select only", strings.Join(idx, ","))
	}
	if err := fw.flush(); err != nil {
		return err
	}
	list := func(title string, items []string) {
		if len(items) == 0 {
			fmt.Fprintf(w, "%s: none\n", title)
			return
		}
		fmt.Fprintf(w, "%s:\n", title)
		for _, it := range items {
			fmt.Fprintf(w, "  %s\n", oneLine(it))
		}
	}
	list("Trackers", m.Trackers)
	list("Web seeds", m.WebSeeds)
	list("Peers", m.Peers)
	return nil
}

// oneLine replaces control characters (from a hostile torrent) so that one
// value stays on one line and cannot drive the terminal.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}
