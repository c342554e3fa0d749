package build_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/livetest"
	"github.com/temper-dev/temper/internal/lock"
)

// benchDef locks a python3 definition (amd64) against the real archive in
// a warm cache and returns its path.
func benchDef(b *testing.B) (string, string) {
	cacheDir := livetest.CacheDir(b)
	dir := b.TempDir()
	def := filepath.Join(dir, "python.yaml")
	os.WriteFile(def, []byte("name: python\nversion: \"3.11\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [python3]\n"), 0o644)
	outs, err := lock.Run(context.Background(), []string{def}, lock.Options{Client: livetest.Client(b, cacheDir, false)})
	if err != nil || outs[0].Err != nil {
		b.Fatalf("lock: %v %v", err, outs)
	}
	return def, cacheDir
}

// BenchmarkBuildPython3Warm builds the python3 image (bookworm, amd64) with
// every .deb already in the cache, writing a fresh OCI layout each time.
// Target ≤ 1 s.
func BenchmarkBuildPython3Warm(b *testing.B) {
	def, cacheDir := benchDef(b)
	f := buildtest.LiveFetcher(b, cacheDir)
	if _, err := build.Build(context.Background(), def, build.Options{Fetcher: f, Output: b.TempDir()}); err != nil {
		b.Fatal(err) // warms the .deb cache
	}
	b.ReportAllocs()
	var res *build.Result
	for b.Loop() {
		var err error
		res, err = build.Build(context.Background(), def, build.Options{Fetcher: f, Output: b.TempDir(), Force: true})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(res.Images[0].UncompressedSize)/(1<<20), "MB-uncompressed")
	b.ReportMetric(float64(res.Images[0].CompressedSize)/(1<<20), "MB-compressed")
	b.ReportMetric(float64(res.Images[0].Packages), "packages")
}

// BenchmarkRebuildNoop is a rebuild whose output already holds the same
// build key. Target ≤ 100 ms.
func BenchmarkRebuildNoop(b *testing.B) {
	def, cacheDir := benchDef(b)
	f := buildtest.LiveFetcher(b, cacheDir)
	out := b.TempDir()
	if _, err := build.Build(context.Background(), def, build.Options{Fetcher: f, Output: out}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := build.Build(context.Background(), def, build.Options{Fetcher: f, Output: out})
		if err != nil || !res.Skipped {
			b.Fatalf("not a no-op: %v", err)
		}
	}
}
