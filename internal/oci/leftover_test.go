package oci

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/temper-dev/temper/internal/leftover"
)

// Temporary files a killed write left in a layout (blobs/sha256 and the
// top, ".tmp-*" with content) are removed by the next write into it; a
// live writer's (locked) and files of other names are kept. The layout
// stays valid.
func TestLayoutCleansLeftovers(t *testing.T) {
	dir := t.TempDir()
	idx := buildIndex(t, 0, epoch, "amd64")
	if err := WriteLayout(dir, idx, "a"); err != nil {
		t.Fatal(err)
	}
	blobs := filepath.Join(dir, "blobs", "sha256")
	stale := []string{
		filepath.Join(blobs, ".tmp-0123456789ab-111"),
		filepath.Join(dir, ".tmp-index.json-222"),
	}
	for _, p := range stale {
		if err := os.WriteFile(p, []byte("half written"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	live, err := leftover.CreateTemp(blobs, ".tmp-live-*")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	live.WriteString("being written")
	other := filepath.Join(dir, "notes.txt")
	os.WriteFile(other, []byte("mine"), 0o644)

	// The same index again: no blob to write, the leftovers go anyway.
	if err := WriteLayout(dir, idx, "b"); err != nil {
		t.Fatal(err)
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there (%v)", p, err)
		}
	}
	for _, p := range []string{live.Name(), other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	back, err := ReadLayoutRef(dir, "b")
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(back); err != nil {
		t.Fatal(err)
	}
}

// A tarball's leftover from a killed write beside it is removed by the
// next write of that tarball; another tarball's is not touched.
func TestTarballCleansLeftovers(t *testing.T) {
	dir := t.TempDir()
	idx := buildIndex(t, 0, epoch, "amd64")
	img, err := ImageFor(idx, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, ".tmp-python.tar-333")
	theirs := filepath.Join(dir, ".tmp-ruby.tar-444")
	for _, p := range []string{mine, theirs} {
		os.WriteFile(p, []byte("half a tarball"), 0o600)
	}
	if err := WriteTarball(filepath.Join(dir, "python.tar"), img, "python:3.11"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mine); !os.IsNotExist(err) {
		t.Errorf("%s is still there (%v)", mine, err)
	}
	if _, err := os.Stat(theirs); err != nil {
		t.Errorf("%s: %v", theirs, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want python.tar and the other leftover", names)
	}
}
