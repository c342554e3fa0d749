package build_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/spec"
)

// BenchmarkCatalogEmptyLayerCache builds the whole example catalog
// (examples/catalog, every definition's runtime image and architecture) offline from the
// .debs in TEMPER_BENCH_CACHE (a warm cache: bench/layers.sh,
// bench/catalog.sh) into a fresh layout with an empty layer cache on
// disk: every layer is built and compressed once. Skipped without
// TEMPER_BENCH_CACHE. Target (issue 16) ≤ 20 s on 2 cores.
func BenchmarkCatalogEmptyLayerCache(b *testing.B) {
	dir := os.Getenv("TEMPER_BENCH_CACHE")
	if dir == "" {
		b.Skip("TEMPER_BENCH_CACHE (a warm .deb cache) is not set")
	}
	c, err := cache.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	files, err := spec.FindDefinitions([]string{filepath.Join("..", "..", "examples", "catalog")})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		opt := build.Options{
			Fetcher: &pool.Fetcher{Cache: c, Offline: true},
			Output:  b.TempDir(),
			Layers:  &oci.LayerCache{Dir: b.TempDir()},
		}
		// The runtime images only (the catalog of issue 16: 28
		// definitions, 56 images), as All builds them: one per CPU.
		var g errgroup.Group
		g.SetLimit(opt.Parallelism(len(files)))
		digests := make([]string, len(files))
		for i, f := range files {
			g.Go(func() error {
				res, err := build.Build(context.Background(), f, opt)
				if err == nil {
					digests[i] = res.Ref + " " + res.IndexDigest + "\n"
				}
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		// For bench/layers-build.sh: the same digests before and after.
		if p := os.Getenv("TEMPER_BENCH_DIGESTS"); p != "" {
			if err := os.WriteFile(p, []byte(strings.Join(digests, "")), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
}
