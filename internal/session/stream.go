package session

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gobit/gobit/internal/torrent"
)

// FileStream is one file of a torrent opened for reading while it
// downloads: reads wait for their pieces (up to Config.StreamTimeout) and
// pull a window of pieces ahead of the read position to the front of the
// download. Close it when done.
type FileStream struct {
	io.ReadSeekCloser
	// Path is the file's path relative to the save directory.
	Path string
	// Size is the file's size in bytes.
	Size int64
}

// OpenStream opens the file with the given index (as in Detail.Files) of a
// torrent; its reads give up when ctx is done. Before the metadata is
// known it fails with ErrConflict; an index beyond the files is
// ErrNotFound.
func (s *Session) OpenStream(ctx context.Context, infoHash string, index int) (*FileStream, error) {
	e, err := s.lookup(infoHash)
	if err != nil {
		return nil, err
	}
	r, err := e.t.OpenStream(ctx, index, s.cfg.StreamTimeout)
	switch {
	case errors.Is(err, torrent.ErrNoMetadata):
		return nil, fmt.Errorf("%w: the torrent's metadata is not known yet", ErrConflict)
	case errors.Is(err, torrent.ErrFileIndex):
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	case err != nil:
		return nil, err
	}
	return &FileStream{ReadSeekCloser: r, Path: r.Path(), Size: r.Size()}, nil
}
