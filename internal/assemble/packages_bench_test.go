package assemble

import (
	"context"
	"testing"

	"github.com/temper-dev/temper/internal/debian/debtest"
)

// BenchmarkPackagesHit: a package served from the memo (the wait, the
// segmented LRU's move to the front, the statistics, the budget).
func BenchmarkPackagesHit(b *testing.B) {
	d := pinned(b, pk{name: "libc6", files: []debtest.File{file("./lib/libc.so.6", "libc")}})
	memo := NewPackages(1 << 20)
	ctx := context.Background()
	if _, err := memo.read(ctx, d, &imageBudget{max: 1 << 40}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := memo.read(ctx, d, &imageBudget{max: 1 << 40}); err != nil {
			b.Fatal(err)
		}
	}
}
