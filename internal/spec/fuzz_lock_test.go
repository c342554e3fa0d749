package spec

import (
	"os"
	"testing"
)

// FuzzParseLock: the lock loader refuses or accepts any bytes without
// panicking, and a lock it accepts marshals. Seeds: testdata/lock.golden
// and testdata/fuzz/FuzzParseLock.
func FuzzParseLock(f *testing.F) {
	if b, err := os.ReadFile("testdata/lock.golden"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("version: 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLock("fuzz.lock.yaml", data)
		if err != nil {
			return
		}
		if _, err := l.Marshal(); err != nil {
			t.Fatalf("accepted, but does not marshal: %v", err)
		}
	})
}
