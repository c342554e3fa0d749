package pool_test

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/debian/pool"
)

// A Packages entry or a hand-edited lock with Size: 100000000000 is
// refused before any request or allocation, naming the package and the
// limit.
func TestHugeSize(t *testing.T) {
	a := []byte("deb a")
	f, hits, _ := setup(t, map[string][]byte{"/debian/pool/main/a/a/a_1_amd64.deb": a})
	it := pool.Item{Name: "a", Version: "1", Suite: "bookworm", Filename: "pool/main/a/a/a_1_amd64.deb", SHA256: sum(a), Size: 100000000000}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := f.Fetch(context.Background(), []pool.Item{it})
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "a 1") || !strings.Contains(err.Error(), "per-.deb limit of 2 GiB") {
		t.Fatalf("got %v, want the per-.deb limit naming a 1", err)
	}
	if *hits != 0 {
		t.Errorf("%d requests for a refused size", *hits)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("allocated %d bytes", n)
	}
}

// A size within the limit but larger than the file: the download is the
// file's size, and the mismatch is an error, not a buffer of the claim.
func TestSizeLie(t *testing.T) {
	a := []byte("deb a")
	f, _, c := setup(t, map[string][]byte{"/debian/pool/main/a/a/a_1_amd64.deb": a})
	it := pool.Item{Name: "a", Version: "1", Suite: "bookworm", Filename: "pool/main/a/a/a_1_amd64.deb", SHA256: sum(a), Size: 1 << 30}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := f.Fetch(context.Background(), []pool.Item{it})
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "but the lock says size 1073741824") {
		t.Fatalf("got %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 32<<20 {
		t.Errorf("allocated %d bytes for a 1 GiB claim", n)
	}
	// Cached already (an earlier honest lock), the lie is still caught.
	if err := c.WriteBytes(sum(a), a); err != nil {
		t.Fatal(err)
	}
	it.Size = 4
	_, _, err = f.Fetch(context.Background(), []pool.Item{it})
	if err == nil || !strings.Contains(err.Error(), "the lock says size 4, but the .deb with its sha256") {
		t.Fatalf("cached, wrong size: %v", err)
	}
}
