package metainfo

import "testing"

// CorpusForTest returns the names and bytes of the differential test's
// corpus (named and generated cases), for the tests of package
// metainfo_test.
func CorpusForTest(t testing.TB) (names []string, data [][]byte) {
	for _, c := range append(namedCorpus(t), genCorpus(1, 600)...) {
		names = append(names, c.name)
		data = append(data, c.data)
	}
	return names, data
}
