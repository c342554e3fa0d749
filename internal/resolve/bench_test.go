package resolve_test

import (
	"context"
	"testing"

	"github.com/temper-dev/temper/internal/debian/livetest"
	"github.com/temper-dev/temper/internal/resolve"
)

// BenchmarkResolvePython3 resolves python3 against the real bookworm amd64
// release, with its indices already loaded and indexed. Target ≤ 5 ms.
func BenchmarkResolvePython3(b *testing.B) {
	dir := livetest.CacheDir(b)
	rel, err := livetest.Client(b, dir, false).LoadRelease(context.Background(), "bookworm", "amd64")
	if err != nil {
		b.Fatal(err)
	}
	u := resolve.NewUniverse(rel)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		res, err := u.Resolve(resolve.Request{Roots: []string{"python3"}})
		if err != nil {
			b.Fatal(err)
		}
		n = len(res.Packages)
	}
	b.ReportMetric(float64(n), "packages")
}

// BenchmarkNewUniverse measures indexing a loaded release for resolving
// (the Provides index), paid once per release and architecture.
func BenchmarkNewUniverse(b *testing.B) {
	dir := livetest.CacheDir(b)
	rel, err := livetest.Client(b, dir, false).LoadRelease(context.Background(), "bookworm", "amd64")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		resolve.NewUniverse(rel)
	}
}
