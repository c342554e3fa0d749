package fileid

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A remembered value holds while the file is unchanged, and not after a
// write, a file renamed over it, or a different value; the memo is
// bounded.
func TestMemo(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	os.WriteFile(p, []byte("one"), 0o644)
	stat := func() os.FileInfo {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	m := NewMemo[string](2)
	fi := stat()
	m.Add(p, fi, "a")
	if !m.Has(p, stat(), "a") || m.Has(p, stat(), "b") {
		t.Fatal("unchanged file")
	}
	time.Sleep(10 * time.Millisecond)
	os.WriteFile(p, []byte("two"), 0o644) // same size, new mtime
	if m.Has(p, stat(), "a") {
		t.Error("rewritten file still remembered")
	}
	m.Add(p, stat(), "a")
	q := filepath.Join(dir, "g")
	os.WriteFile(q, []byte("two"), 0o644)
	os.Rename(q, p)
	if m.Has(p, stat(), "a") {
		t.Error("a file renamed over it still remembered")
	}
	m.Add(p, stat(), "a")
	m.Forget(p)
	if m.Has(p, stat(), "a") {
		t.Error("forgotten")
	}
	for _, n := range []string{"x", "y", "z"} {
		m.Add(filepath.Join(dir, n), fi, "a")
	}
	if m.Len() > 2 {
		t.Errorf("memo holds %d paths, bound 2", m.Len())
	}
	if !Same(stat(), stat()) || Same(stat(), fi) {
		t.Error("Same")
	}
}
