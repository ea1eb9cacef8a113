package metainfo_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/storage"
)

// TestCorpusStaysInSaveDir maps every corpus torrent that Parse accepts
// through the function storage uses (storage.LayoutFromInfo, then
// storage.Open) and checks that every resolved path lies inside the save
// directory. For the small ones it also writes the whole payload and
// creates the empty files, then checks that nothing appeared outside the
// save directory and that each non-pad file got a file of its own.
func TestCorpusStaysInSaveDir(t *testing.T) {
	names, data := metainfo.CorpusForTest(t)
	root := t.TempDir()
	accepted, written := 0, 0
	for i, name := range names {
		mi, err := metainfo.Parse(data[i])
		if err != nil {
			continue
		}
		accepted++
		caseDir := filepath.Join(root, fmt.Sprintf("case%04d", i))
		saveDir := filepath.Join(caseDir, "save")
		if err := os.MkdirAll(saveDir, 0o755); err != nil {
			t.Fatal(err)
		}
		layout := storage.LayoutFromInfo(&mi.Info)
		for _, f := range layout.Files {
			p := filepath.Join(saveDir, f.Path)
			rel, err := filepath.Rel(saveDir, p)
			if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
				t.Fatalf("%s: file %q resolves to %q, outside %q", name, f.Path, p, saveDir)
			}
		}
		st, err := storage.Open(saveDir, layout, storage.Options{BufferedWrites: true})
		if err != nil {
			t.Fatalf("%s: storage.Open refuses the layout Parse accepted: %v", name, err)
		}
		if layout.TotalLength <= 1<<20 {
			written++
			if err := st.WriteAt(make([]byte, layout.TotalLength), 0); err != nil {
				t.Fatalf("%s: WriteAt: %v", name, err)
			}
			if err := st.CreateEmptyFiles(); err != nil {
				t.Fatalf("%s: CreateEmptyFiles: %v", name, err)
			}
		}
		if err := st.Close(); err != nil {
			t.Fatalf("%s: Close: %v", name, err)
		}
		if layout.TotalLength > 1<<20 {
			continue
		}
		want := 0
		for _, f := range layout.Files {
			if !f.Pad {
				want++
			}
		}
		got := 0
		err = filepath.WalkDir(caseDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != caseDir && p != saveDir && !strings.HasPrefix(p, saveDir+string(filepath.Separator)) {
				t.Errorf("%s: %q created outside the save directory", name, p)
			}
			if d.Type()&fs.ModeSymlink != 0 {
				t.Errorf("%s: symbolic link %q created", name, p)
			}
			if d.Type().IsRegular() {
				got++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: %d files on disk, want %d (one per non-pad file)", name, got, want)
		}
	}
	if accepted < 300 || written < 200 {
		t.Fatalf("only %d accepted torrents, %d written: the corpus lost its coverage", accepted, written)
	}
	t.Logf("%d accepted torrents mapped, %d written to disk", accepted, written)
}
