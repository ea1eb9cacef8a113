package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
)

// This file checks a bbolt file's structure with plain reads before bbolt
// memory-maps it. bbolt trusts the file: a page id past the end of a
// truncated file makes it read unmapped memory (a fatal fault outside our
// goroutine), and a cycle in the tree sends its cursor into endless
// recursion. Neither can be recovered from, so such files must be refused
// before bbolt sees them.
//
// The layout (bbolt file format version 2, host byte order):
//
//	page header (16 bytes): id u64, flags u16, count u16, overflow u32
//	meta (after the header): magic u32, version u32, pageSize u32, flags u32,
//	    root bucket {root pgid u64, sequence u64}, freelist pgid u64,
//	    pgid (high-water mark) u64, txid u64, checksum u64 (FNV-64a of the
//	    preceding 56 bytes)
//	branch element (16 bytes): pos u32, ksize u32, child pgid u64
//	leaf element (16 bytes): flags u32, pos u32, ksize u32, vsize u32
//	    (key and value at element address + pos); a bucket value starts
//	    with {root pgid u64, sequence u64}, root 0 meaning an inline page
//	    follows in the value
//	freelist: count u16 page ids (u64), or 0xFFFF and the real count in
//	    the first u64

const (
	boltMagic          = 0xED0CDAED
	boltVersion        = 2
	pageHeaderSize     = 16
	elementSize        = 16
	metaSize           = 64
	flagBranch         = 0x01
	flagLeaf           = 0x02
	flagMeta           = 0x04
	flagFreelist       = 0x10
	flagBucketLeaf     = 0x01
	pgidNoFreelist     = ^uint64(0)
	minPageSize        = 1024
	maxPageSize        = 1 << 16
	firstMetaProbeSize = 4096
)

var ne = binary.NativeEndian

// boltMeta is a decoded meta page.
type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64
	txid     uint64
}

// parseMeta decodes and validates the meta page in p (a whole page, header
// included).
func parseMeta(p []byte) (boltMeta, error) {
	if len(p) < pageHeaderSize+metaSize {
		return boltMeta{}, errors.New("meta page truncated")
	}
	if flags := ne.Uint16(p[8:]); flags != flagMeta {
		return boltMeta{}, fmt.Errorf("meta page has flags %#x", flags)
	}
	m := p[pageHeaderSize : pageHeaderSize+metaSize]
	if ne.Uint32(m[0:]) != boltMagic {
		return boltMeta{}, errors.New("bad magic: not a bbolt file")
	}
	if v := ne.Uint32(m[4:]); v != boltVersion {
		return boltMeta{}, fmt.Errorf("bbolt format version %d, want %d", v, boltVersion)
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != ne.Uint64(m[56:]) {
		return boltMeta{}, errors.New("meta checksum mismatch")
	}
	return boltMeta{
		pageSize: ne.Uint32(m[8:]),
		root:     ne.Uint64(m[16:]),
		freelist: ne.Uint64(m[32:]),
		pgid:     ne.Uint64(m[40:]),
		txid:     ne.Uint64(m[48:]),
	}, nil
}

// readAtMost reads up to n bytes at off, fewer at the end of the file.
func readAtMost(r io.ReaderAt, off int64, n int) ([]byte, error) {
	buf := make([]byte, n)
	k, err := r.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:k], nil
}

// validateFile checks the structure of the bbolt file r of the given size:
// a valid meta page, every page reachable from the root in bounds,
// well-formed and referenced exactly once, and the freelist in bounds and
// disjoint from the tree. It reads each page once.
func validateFile(r io.ReaderAt, size int64) error {
	// Find the page size the way bbolt does: from meta 0, else from meta 1
	// probed at each candidate page size.
	var pageSize int64
	p, err := readAtMost(r, 0, firstMetaProbeSize)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if m, err := parseMeta(p); err == nil {
		pageSize = int64(m.pageSize)
	} else {
		for ps := int64(minPageSize); ps <= maxPageSize && ps+pageHeaderSize+metaSize <= size; ps <<= 1 {
			p, err := readAtMost(r, ps, firstMetaProbeSize)
			if err != nil {
				return fmt.Errorf("read: %w", err)
			}
			if m, err := parseMeta(p); err == nil {
				pageSize = int64(m.pageSize)
				break
			}
		}
		if pageSize == 0 {
			return fmt.Errorf("no valid meta page: %w", err)
		}
	}
	if pageSize < minPageSize || pageSize > maxPageSize || pageSize&(pageSize-1) != 0 {
		return fmt.Errorf("page size %d unsupported", pageSize)
	}
	if size < 2*pageSize {
		return fmt.Errorf("file is %d bytes, less than two %d-byte pages", size, pageSize)
	}

	// Choose the meta bbolt will use: the valid one with the higher txid.
	var metas [2]boltMeta
	var errs [2]error
	for i := range metas {
		p, err := readAtMost(r, int64(i)*pageSize, int(pageSize))
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		metas[i], errs[i] = parseMeta(p)
		if errs[i] == nil && int64(metas[i].pageSize) != pageSize {
			errs[i] = fmt.Errorf("page size %d differs from %d", metas[i].pageSize, pageSize)
		}
	}
	a, b := 0, 1
	if metas[1].txid > metas[0].txid {
		a, b = 1, 0
	}
	var m boltMeta
	switch {
	case errs[a] == nil:
		m = metas[a]
	case errs[b] == nil:
		m = metas[b]
	default:
		return fmt.Errorf("both meta pages invalid: %v; %v", errs[0], errs[1])
	}

	if m.pgid < 3 || m.pgid > uint64(size/pageSize) {
		return fmt.Errorf("high-water mark page %d but the file holds %d pages (truncated?)", m.pgid, size/pageSize)
	}
	w := walker{r: r, pageSize: pageSize, pgid: m.pgid, seen: make([]bool, m.pgid)}
	w.seen[0], w.seen[1] = true, true
	if err := w.walkTree(m.root); err != nil {
		return err
	}
	if m.freelist != pgidNoFreelist {
		if err := w.checkFreelist(m.freelist); err != nil {
			return err
		}
	}
	return nil
}

// walker visits a file's pages, each at most once.
type walker struct {
	r        io.ReaderAt
	pageSize int64
	pgid     uint64 // high-water mark: every page id is below it
	seen     []bool
}

// readPage claims page id (and its overflow pages) and returns its bytes.
func (w *walker) readPage(id uint64) ([]byte, error) {
	if id < 2 || id >= w.pgid {
		return nil, fmt.Errorf("page %d out of range [2, %d)", id, w.pgid)
	}
	hdr := make([]byte, pageHeaderSize)
	if _, err := w.r.ReadAt(hdr, int64(id)*w.pageSize); err != nil {
		return nil, fmt.Errorf("page %d: read: %w", id, err)
	}
	if got := ne.Uint64(hdr); got != id {
		return nil, fmt.Errorf("page %d: header says page %d", id, got)
	}
	overflow := uint64(ne.Uint32(hdr[12:]))
	if id+overflow >= w.pgid {
		return nil, fmt.Errorf("page %d: %d overflow pages run past the high-water mark %d", id, overflow, w.pgid)
	}
	for i := id; i <= id+overflow; i++ {
		if w.seen[i] {
			return nil, fmt.Errorf("page %d referenced twice", i)
		}
		w.seen[i] = true
	}
	buf := make([]byte, int64(overflow+1)*w.pageSize)
	if _, err := w.r.ReadAt(buf, int64(id)*w.pageSize); err != nil {
		return nil, fmt.Errorf("page %d: read: %w", id, err)
	}
	return buf, nil
}

// walkTree checks the bucket tree rooted at page root and every bucket
// nested in it, iteratively so that no file can exhaust the stack.
func (w *walker) walkTree(root uint64) error {
	stack := []uint64{root}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		p, err := w.readPage(id)
		if err != nil {
			return err
		}
		children, err := checkNode(p, 0)
		if err != nil {
			return fmt.Errorf("page %d: %w", id, err)
		}
		stack = append(stack, children...)
	}
	return nil
}

// checkNode checks one branch or leaf page (or inline bucket page) and
// returns the page ids it refers to: a branch's children and the roots of
// buckets stored in a leaf.
func checkNode(p []byte, depth int) ([]uint64, error) {
	if len(p) < pageHeaderSize {
		return nil, errors.New("page shorter than its header")
	}
	flags := ne.Uint16(p[8:])
	count := int(ne.Uint16(p[10:]))
	switch {
	case depth > 0 && flags != flagLeaf:
		// bbolt only inlines small leaf buckets; it resolves any page id
		// in an inline bucket to the inline page itself, so an inline
		// branch would send its cursor round forever.
		return nil, fmt.Errorf("inline bucket page has type %#x, want leaf", flags)
	case flags != flagBranch && flags != flagLeaf:
		return nil, fmt.Errorf("page type %#x where a branch or leaf belongs", flags)
	case flags == flagBranch && count == 0:
		return nil, errors.New("empty branch page")
	}
	if pageHeaderSize+count*elementSize > len(p) {
		return nil, fmt.Errorf("%d elements do not fit in %d bytes", count, len(p))
	}
	var refs []uint64
	for i := range count {
		off := pageHeaderSize + i*elementSize
		e := p[off : off+elementSize]
		switch flags {
		case flagBranch:
			pos, ksize := int64(ne.Uint32(e[0:])), int64(ne.Uint32(e[4:]))
			if int64(off)+pos+ksize > int64(len(p)) {
				return nil, fmt.Errorf("branch element %d: key outside the page", i)
			}
			refs = append(refs, ne.Uint64(e[8:]))
		case flagLeaf:
			eflags := ne.Uint32(e[0:])
			pos, ksize, vsize := int64(ne.Uint32(e[4:])), int64(ne.Uint32(e[8:])), int64(ne.Uint32(e[12:]))
			end := int64(off) + pos + ksize + vsize
			if end > int64(len(p)) {
				return nil, fmt.Errorf("leaf element %d: key/value outside the page", i)
			}
			if eflags&flagBucketLeaf == 0 {
				continue
			}
			v := p[int64(off)+pos+ksize : end]
			if len(v) < 16 {
				return nil, fmt.Errorf("leaf element %d: bucket header truncated", i)
			}
			if root := ne.Uint64(v); root != 0 {
				refs = append(refs, root)
				continue
			}
			if depth > 0 {
				return nil, errors.New("bucket nested in an inline bucket")
			}
			inner, err := checkNode(v[16:], depth+1)
			if err != nil {
				return nil, fmt.Errorf("inline bucket in leaf element %d: %w", i, err)
			}
			refs = append(refs, inner...)
		default:
			return nil, fmt.Errorf("page type %#x where a branch or leaf belongs", flags)
		}
	}
	return refs, nil
}

// checkFreelist checks the freelist page: in range, of the right type, and
// listing only pages that are in range and not part of the tree.
func (w *walker) checkFreelist(id uint64) error {
	p, err := w.readPage(id)
	if err != nil {
		return fmt.Errorf("freelist: %w", err)
	}
	if flags := ne.Uint16(p[8:]); flags != flagFreelist {
		return fmt.Errorf("freelist page %d has type %#x", id, flags)
	}
	n, start := uint64(ne.Uint16(p[10:])), uint64(pageHeaderSize)
	if n == 0xFFFF {
		if len(p) < pageHeaderSize+8 {
			return errors.New("freelist count truncated")
		}
		n, start = ne.Uint64(p[pageHeaderSize:]), pageHeaderSize+8
	}
	if n > (uint64(len(p))-start)/8 {
		return fmt.Errorf("freelist claims %d ids, page holds at most %d", n, (uint64(len(p))-start)/8)
	}
	for i := range n {
		free := ne.Uint64(p[start+8*i:])
		if free < 2 || free >= w.pgid {
			return fmt.Errorf("freelist lists page %d, out of range [2, %d)", free, w.pgid)
		}
		if w.seen[free] {
			return fmt.Errorf("freelist lists page %d, which is in use", free)
		}
	}
	return nil
}
