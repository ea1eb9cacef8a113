package storage

// SetNoPreallocate names the files (by layout index; skip[i] true) that
// Options.Preallocate must not allocate in full when they are first
// written: files the user skipped, of which only the pieces shared with
// wanted files are written. nil clears it. Safe for concurrent use.
func (s *Storage) SetNoPreallocate(skip []bool) {
	if skip == nil {
		s.noPrealloc.Store(nil)
		return
	}
	c := append([]bool(nil), skip...)
	s.noPrealloc.Store(&c)
}

// skipPrealloc reports whether file i is not to be preallocated.
func (s *Storage) skipPrealloc(i int) bool {
	p := s.noPrealloc.Load()
	return p != nil && i < len(*p) && (*p)[i]
}
