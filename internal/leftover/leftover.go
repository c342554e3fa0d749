// Package leftover makes temporary files that an interrupted run (SIGKILL,
// power loss) leaves behind recognisable and removable by the next run,
// without ever removing the temporary file of a run still writing it.
//
// A writer creates its temporary file with CreateTemp, which holds an
// exclusive flock(2) on it until the file is closed; the writer renames it
// into place before closing it. Clean removes every file of a directory
// whose name has the given prefix and on which it can take that lock: its
// writer is gone (the kernel drops a dead process's locks), so it is a
// leftover. Temporary files are never read as data: readers look only at
// final names.
package leftover

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// CreateTemp is os.CreateTemp with the file locked for as long as it is
// open. Rename it into place before closing it, so that Clean never sees an
// unlocked temporary file of a live writer.
func CreateTemp(dir, pattern string) (*os.File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		// A file system without flock: the file is still usable, and
		// Clean will not be able to tell it from a leftover either way
		// (it skips files it cannot lock).
		_ = err
	}
	return f, nil
}

// Clean removes the leftovers in dir whose names start with prefix and
// returns how many it removed. Errors (an unreadable directory, a file
// that vanished) are not reported: cleaning is best effort, and a
// leftover is never read as data anyway.
func Clean(dir, prefix string) int {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), prefix) || !e.Type().IsRegular() {
			continue
		}
		if remove(filepath.Join(dir, e.Name())) {
			n++
		}
	}
	return n
}

// CleanMatch is Clean for names that match a glob pattern (filepath.Match),
// e.g. ".*.lock.yaml.tmp-*".
func CleanMatch(dir, pattern string) int {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		if ok, _ := filepath.Match(pattern, e.Name()); !ok || !e.Type().IsRegular() {
			continue
		}
		if remove(filepath.Join(dir, e.Name())) {
			n++
		}
	}
	return n
}

// remove removes p if no live writer holds its lock.
func remove(p string) bool {
	f, err := os.OpenFile(p, os.O_RDONLY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false // a live writer, or no flock here
	}
	// Still the same file (not renamed into place meanwhile)?
	fi, err1 := f.Stat()
	cur, err2 := os.Lstat(p)
	if err1 != nil || err2 != nil || !os.SameFile(fi, cur) {
		return false
	}
	// A hard link to a file that has another name (a layout blob being
	// linked from the layer cache) cannot be told from a live writer's by
	// its lock, and removing it frees no space: left alone.
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
		return false
	}
	// An empty file a moment old may be a live writer's between
	// os.CreateTemp and its flock: left for the next run.
	if fi.Size() == 0 && time.Since(fi.ModTime()) < time.Second {
		return false
	}
	return os.Remove(p) == nil
}
