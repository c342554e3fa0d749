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
	c, files := benchCatalog(b)
	for b.Loop() {
		digests := buildRuntimes(b, c, files, b.TempDir(), "")
		// For bench/layers-build.sh: the same digests before and after.
		if p := os.Getenv("TEMPER_BENCH_DIGESTS"); p != "" {
			if err := os.WriteFile(p, []byte(strings.Join(digests, "")), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkCatalogEmptyLayerCacheZstd is BenchmarkCatalogEmptyLayerCache
// with the opt-in `compression: zstd` (temper.yaml's compression, or a
// definition's): what a team that can pull tar+zstd layers gets from a
// build that compresses every layer.
func BenchmarkCatalogEmptyLayerCacheZstd(b *testing.B) {
	c, files := benchCatalog(b)
	for b.Loop() {
		buildRuntimes(b, c, files, b.TempDir(), "zstd")
	}
}

// BenchmarkCatalogWarmLayerCache is BenchmarkCatalogEmptyLayerCache with
// the layer cache filled by one untimed build first, as temper's own cache
// directory is between builds (<cache>/layers): every layer is assembled,
// hashed for its key and linked from the cache, none compressed.
func BenchmarkCatalogWarmLayerCache(b *testing.B) {
	c, files := benchCatalog(b)
	layers := b.TempDir()
	buildRuntimes(b, c, files, layers, "")
	for b.Loop() {
		buildRuntimes(b, c, files, layers, "")
	}
}

// BenchmarkWholeCatalogWarm builds the whole example catalog as `temper
// build examples/catalog` does (build.All: the 28 runtimes and their 16
// dev variants, 88 images) into a fresh layout, with the layer cache
// filled by one untimed build first: the steady state of a machine that
// keeps temper's cache directory.
func BenchmarkWholeCatalogWarm(b *testing.B) {
	c, files := benchCatalog(b)
	layers := b.TempDir()
	run := func() {
		opt := build.Options{Fetcher: &pool.Fetcher{Cache: c, Offline: true}, Output: b.TempDir(), Layers: &oci.LayerCache{Dir: layers}}
		var failed []string
		build.All(context.Background(), files, opt, func(o build.Outcome) {
			if o.Err != nil {
				failed = append(failed, o.Err.Error())
			}
		})
		if len(failed) > 0 {
			b.Fatal(strings.Join(failed, "\n"))
		}
	}
	run()
	for b.Loop() {
		run()
	}
}

// benchCatalog opens the warm .deb cache in TEMPER_BENCH_CACHE and finds
// the catalog's definitions; it skips the benchmark without the cache.
func benchCatalog(b *testing.B) (*cache.Cache, []string) {
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
	return c, files
}

// buildRuntimes builds the runtime images only (the catalog of issue 16:
// 28 definitions, 56 images), as All builds them (one per CPU), into a
// fresh layout with the layer cache in layerDir and the compression comp
// ("" is the default, gzip), and returns each image's "ref digest" line.
func buildRuntimes(b *testing.B, c *cache.Cache, files []string, layerDir, comp string) []string {
	opt := build.Options{
		Fetcher:     &pool.Fetcher{Cache: c, Offline: true},
		Output:      b.TempDir(),
		Layers:      &oci.LayerCache{Dir: layerDir},
		Compression: comp,
	}
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
	return digests
}
