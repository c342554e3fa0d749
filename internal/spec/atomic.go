package spec

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/temper-dev/temper/internal/leftover"
)

// WriteFileAtomic writes data to path so that readers see either the old
// file or the new one, never a partial file: it writes a temporary file in
// the same directory, syncs it and renames it over path. When path already
// holds exactly data it does nothing (the modification time is kept) and
// reports changed=false.
//
// The temporary file (".BASE.tmp-*") is locked while it is written
// (internal/leftover) and renamed before it is closed; the leftovers of an
// interrupted run beside path are removed first.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) (changed bool, err error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	leftover.CleanMatch(dir, "."+base+".tmp-*")
	f, err := leftover.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err == nil {
		if err = f.Chmod(perm); err == nil {
			err = f.Sync()
		}
	}
	if err == nil {
		// Renamed while still open (and locked): see internal/leftover.
		err = os.Rename(tmp, path)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if df, derr := os.Open(dir); derr == nil {
		_ = df.Sync() // make the rename durable; not all systems support it
		_ = df.Close()
	}
	return true, nil
}
