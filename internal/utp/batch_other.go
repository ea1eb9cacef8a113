//go:build !linux

package utp

// batchSize is how many packets the reader hands over at once.
const batchSize = 1

// batchReader is recvmmsg(2)'s, on Linux only.
type batchReader struct{}

func newBatchReader(*Socket) *batchReader { return nil }

func (*batchReader) read([]packet) (int, error) { panic("utp: no batch reader") }

func (*batchReader) close() {}
