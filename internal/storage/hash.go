package storage

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/gobit/gobit/internal/bitfield"
)

// hashChunk is the size of the pooled buffers HashPiece reads through.
const hashChunk = 128 << 10

var hashBufPool = sync.Pool{New: func() any {
	b := make([]byte, hashChunk)
	return &b
}}

// VerifyData reports whether the SHA-1 of data equals want.
func VerifyData(data []byte, want [20]byte) bool {
	return sha1.Sum(data) == want
}

// HashPiece reads piece from disk and returns its SHA-1. The piece is read
// in chunks through a pooled buffer, so memory use does not depend on the
// piece size. Errors follow ReadBlock's conventions.
func (s *Storage) HashPiece(piece int) ([20]byte, error) {
	var sum [20]byte
	size := s.layout.PieceSize(piece)
	if size == 0 {
		return sum, fmt.Errorf("%w: piece %d of %d", ErrOutOfRange, piece, s.layout.NumPieces())
	}
	bp := hashBufPool.Get().(*[]byte)
	defer hashBufPool.Put(bp)
	buf := *bp
	h := sha1.New()
	off := int64(piece) * s.layout.PieceLength
	for done := int64(0); done < size; {
		n := min(int64(len(buf)), size-done)
		if err := s.readAt(buf[:n], off+done); err != nil {
			return sum, err
		}
		h.Write(buf[:n])
		done += n
	}
	h.Sum(sum[:0])
	return sum, nil
}

// VerifyPiece reports whether the piece on disk hashes to want.
func (s *Storage) VerifyPiece(piece int, want [20]byte) (bool, error) {
	got, err := s.HashPiece(piece)
	if err != nil {
		return false, err
	}
	return got == want, nil
}

// pieceOnDisk reports whether every non-pad file span of piece is present
// in a file of at least the needed size, given sizes from fileSizes.
func (s *Storage) pieceOnDisk(piece int, sizes []int64) bool {
	ok := true
	off := int64(piece) * s.layout.PieceLength
	_ = s.layout.forSpans(off, s.layout.PieceSize(piece), func(sp span) error {
		if sizes[sp.file] < sp.fileOff+sp.n {
			ok = false
			return errStop
		}
		return nil
	})
	return ok
}

var errStop = errors.New("stop")

// checkResult is one piece's outcome in Check.
type checkResult struct {
	piece int
	ok    bool
	err   error
}

// Check verifies every piece on disk against the layout's hashes and
// returns the pieces that match. Pieces whose files are missing or too
// short are marked absent without reading anything, so checking an empty
// directory is fast; the others are hashed by workers goroutines in
// parallel (at least one).
//
// A piece that cannot be read because its file vanished or shrank during
// the check is absent; any other read error aborts the check. progress, if
// not nil, is called from Check's goroutine with the number of pieces
// checked so far, after each piece. Cancelling ctx stops the check and
// returns ctx's error.
func (s *Storage) Check(ctx context.Context, workers int, progress func(checked int)) (*bitfield.Bitfield, error) {
	return s.check(ctx, workers, nil, progress)
}

// check implements Check; pieces for which trusted returns true (and whose
// files are long enough) count as present without being hashed.
func (s *Storage) check(ctx context.Context, workers int, trusted func(int) bool, progress func(checked int)) (*bitfield.Bitfield, error) {
	n := s.layout.NumPieces()
	if s.layout.Hashes == nil {
		return nil, ErrNoHashes
	}
	workers = max(1, workers)
	sizes, err := s.fileSizes()
	if err != nil {
		return nil, fmt.Errorf("storage: check: %w", err)
	}

	parent := ctx
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	jobs := make(chan int)
	results := make(chan checkResult, workers)
	var wg sync.WaitGroup

	// Producer: skips absent pieces itself, feeds the others to workers.
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		for p := 0; p < n && ctx.Err() == nil; p++ {
			if s.pieceOnDisk(p, sizes) && trusted != nil && trusted(p) {
				select {
				case results <- checkResult{piece: p, ok: true}:
				case <-ctx.Done():
					return
				}
				continue
			}
			if s.pieceOnDisk(p, sizes) {
				select {
				case jobs <- p:
				case <-ctx.Done():
					return
				}
				continue
			}
			select {
			case results <- checkResult{piece: p}:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				if ctx.Err() != nil {
					return
				}
				ok, err := s.VerifyPiece(p, s.layout.Hashes[p])
				if errors.Is(err, ErrShortRead) || errors.Is(err, fs.ErrNotExist) {
					ok, err = false, nil
				}
				select {
				case results <- checkResult{piece: p, ok: ok, err: err}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	have := bitfield.New(n)
	checked := 0
	var firstErr error
	for r := range results {
		if r.err != nil && firstErr == nil {
			firstErr = fmt.Errorf("storage: check piece %d: %w", r.piece, r.err)
			cancel()
		}
		if r.ok {
			have.Set(r.piece)
		}
		checked++
		if progress != nil && firstErr == nil {
			progress(checked)
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if err := parent.Err(); err != nil {
		return nil, fmt.Errorf("storage: check: %w", err)
	}
	return have, nil
}
