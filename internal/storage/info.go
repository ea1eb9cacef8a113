package storage

import "github.com/gobit/gobit/internal/metainfo"

// LayoutFromInfo builds the storage layout of a validated info dictionary.
// An invalid info yields a layout without files, which Open rejects.
func LayoutFromInfo(info *metainfo.Info) Layout {
	entries := info.FileEntries()
	l := Layout{
		PieceLength: info.PieceLength,
		TotalLength: info.TotalLength(),
		Files:       make([]File, len(entries)),
		Hashes:      make([][20]byte, info.NumPieces()),
	}
	for i, e := range entries {
		l.Files[i] = File{Path: e.Path, Length: e.Length, Offset: e.Offset, Pad: e.Pad}
	}
	for i := range l.Hashes {
		l.Hashes[i] = info.PieceHash(i)
	}
	return l
}
