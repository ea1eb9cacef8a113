package storage

// SetSkipped names the files the user skipped (by layout index; skip[i]
// true), of which only the pieces shared with wanted files are written:
// Options.Preallocate does not allocate them in full when they are first
// written, and CreateEmptyFiles does not create the empty ones. nil
// clears it. Safe for concurrent use.
func (s *Storage) SetSkipped(skip []bool) {
	if skip == nil {
		s.skipped.Store(nil)
		return
	}
	c := append([]bool(nil), skip...)
	s.skipped.Store(&c)
}

// isSkipped reports whether file i is skipped.
func (s *Storage) isSkipped(i int) bool {
	p := s.skipped.Load()
	return p != nil && i < len(*p) && (*p)[i]
}
