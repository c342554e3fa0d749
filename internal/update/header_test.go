package update

import (
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/spec"
)

// The fast path's header reader agrees with the strict parser on every
// canonical lock, and refuses anything else.
func TestLockHeaderMatchesParseLock(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	l := &spec.Lock{
		Definition: spec.LockDefinition{File: "python-3.11.yaml", SHA256: sum},
		Release:    "bookworm",
		Suites: []spec.LockSuite{
			{Name: "bookworm", InReleaseSHA256: sum, Date: time.Date(2026, 1, 10, 9, 8, 7, 0, time.UTC)},
			{Name: "bookworm-security", InReleaseSHA256: strings.Repeat("cd", 32), Date: time.Date(2026, 1, 11, 0, 0, 0, 5, time.UTC)},
		},
		Architectures: map[string]*spec.LockArch{"amd64": {Packages: []spec.LockedPackage{{
			Name: "libc6", Version: "1:2.36-9", Architecture: "amd64", Source: "glibc", SourceVersion: "1:2.36-9", Suite: "bookworm",
			Filename: "pool/main/g/glibc/libc6.deb", SHA256: sum, Size: 1, RequiredBy: []string{"definition"},
		}}}},
	}
	data, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	full, err := spec.ParseLock("x.lock.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	h, ok := lockHeader(data)
	if !ok {
		t.Fatalf("canonical lock not read:\n%s", data)
	}
	if h.Definition != full.Definition || h.Release != full.Release || len(h.Suites) != len(full.Suites) {
		t.Fatalf("header %+v, full %+v", h, full)
	}
	for i := range h.Suites {
		if h.Suites[i].Name != full.Suites[i].Name || h.Suites[i].InReleaseSHA256 != full.Suites[i].InReleaseSHA256 || !h.Suites[i].Date.Equal(full.Suites[i].Date) {
			t.Errorf("suite %d: %+v vs %+v", i, h.Suites[i], full.Suites[i])
		}
	}
	for _, bad := range []string{
		strings.Replace(string(data), "release: bookworm", "release: \"bookworm\"", 1),
		strings.Replace(string(data), spec.LockHeader, "# edited", 1),
		strings.SplitN(string(data), "architectures:", 2)[0],
	} {
		if _, ok := lockHeader([]byte(bad)); ok {
			t.Errorf("non-canonical lock accepted:\n%s", bad)
		}
	}
}
