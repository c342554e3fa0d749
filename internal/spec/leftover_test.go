package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// A lock write interrupted by SIGKILL leaves ".NAME.lock.yaml.tmp-*":
// the next write or load beside it removes it; it is never read.
func TestLockLeftoversCleaned(t *testing.T) {
	dir := t.TempDir()
	stray := filepath.Join(dir, ".python.lock.yaml.tmp-1234")
	if err := os.WriteFile(stray, []byte("half a lock"), 0o644); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, "python.lock.yaml")
	if _, err := WriteFileAtomic(lock, []byte("x: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Errorf("WriteFileAtomic left %s: %v", stray, err)
	}
	os.WriteFile(stray, []byte("half a lock"), 0o644)
	LoadLock(lock) // fails to parse "x: 1"; cleans anyway
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Errorf("LoadLock left %s: %v", stray, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("dir holds %v", ents)
	}
}
