package cache

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

func withVerified(t *testing.T, max int) *verifiedFiles {
	t.Helper()
	old := verified
	verified = newVerified(max)
	t.Cleanup(func() { verified = old })
	return verified
}

func skipWithoutIdentity(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("file identity is only read on linux; every read hashes")
	}
}

// An entry this process verified is not hashed again while it is the
// same file; any change to the file (content of the same size, even with
// its modification time put back; a file renamed over it) is hashed and
// refused.
func TestReadVerifiesOncePerFile(t *testing.T) {
	skipWithoutIdentity(t)
	v := withVerified(t, maxVerified)
	c := newCache(t)
	data := []byte("the content of a .deb")
	sum := sumOf(data)
	if err := c.WriteBytes(sum, data); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got, err := c.Read(sum)
		if err != nil || string(got) != string(data) {
			t.Fatalf("read %d: %q, %v", i, got, err)
		}
	}
	if n := v.hashed.Load(); n != 1 {
		t.Fatalf("3 reads hashed %d times, want 1", n)
	}

	// Same size, other bytes, modification time restored: the change
	// time still moves.
	p := c.Path(sum)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	bad := []byte("THE content of a .deb")
	if err := os.WriteFile(p, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(sum); !errors.Is(err, ErrNotFound) {
		t.Fatalf("read of a tampered entry: %v, want corrupt (ErrNotFound)", err)
	}

	// Written again (a new file, renamed into place), then replaced by
	// another file renamed over it.
	if err := c.WriteBytes(sum, data); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(sum); err != nil {
		t.Fatal(err)
	}
	tmp := p + ".other"
	if err := os.WriteFile(tmp, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(sum); !errors.Is(err, ErrNotFound) {
		t.Fatalf("read of an entry renamed over: %v, want corrupt (ErrNotFound)", err)
	}
}

// The memory is bounded; past the bound it starts over (entries are
// hashed again, never trusted unverified).
func TestVerifiedBounded(t *testing.T) {
	skipWithoutIdentity(t)
	v := withVerified(t, 4)
	c := newCache(t)
	var sums []string
	for i := range 6 {
		data := []byte(fmt.Sprintf("entry %d", i))
		sums = append(sums, sumOf(data))
		if err := c.WriteBytes(sums[i], data); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(sums[i]); err != nil {
			t.Fatal(err)
		}
		n := v.memo.Len()
		if n > 4 {
			t.Fatalf("%d files remembered, bound 4", n)
		}
	}
	before := v.hashed.Load()
	for _, s := range sums {
		if _, err := c.Read(s); err != nil {
			t.Fatal(err)
		}
	}
	if n := v.hashed.Load() - before; n < 2 {
		t.Errorf("%d of 6 entries hashed again after the memory started over, want at least 2", n)
	}
}

// Concurrent reads of shared entries (run with -race).
func TestReadVerifiedConcurrent(t *testing.T) {
	withVerified(t, 3)
	c := newCache(t)
	var sums []string
	for i := range 8 {
		data := []byte(fmt.Sprintf("entry %d", i))
		sums = append(sums, sumOf(data))
		if err := c.WriteBytes(sums[i], data); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				k := (g + i) % len(sums)
				got, err := c.Read(sums[k])
				if err != nil || string(got) != fmt.Sprintf("entry %d", k) {
					t.Errorf("entry %d: %q, %v", k, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
