package build_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/oci"
)

// BenchmarkFreshLayoutMemo builds the python3 image (bookworm, amd64) into
// a fresh layout with a warm .deb and layer cache, in full (no memo) and
// from the build memo, in the same run. In-process figures: the full
// build's unpacked-package memo is warm, and neither path hashes the
// cached layers again (a fresh process does both once).
func BenchmarkFreshLayoutMemo(b *testing.B) {
	def, cacheDir := benchDef(b)
	f := buildtest.LiveFetcher(b, cacheDir)
	layers, memo := filepath.Join(b.TempDir(), "layers"), filepath.Join(b.TempDir(), "builds")
	opt := func(memoDir string) build.Options {
		return build.Options{Fetcher: f, Output: filepath.Join(b.TempDir(), "layout"), Layers: &oci.LayerCache{Dir: layers}, MemoDir: memoDir}
	}
	if _, err := build.Build(context.Background(), def, opt(memo)); err != nil {
		b.Fatal(err) // warms the caches and records the build
	}
	for _, c := range []struct {
		name string
		memo string
	}{{"full", ""}, {"memo", memo}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				res, err := build.Build(context.Background(), def, opt(c.memo))
				if err != nil || res.Memo != (c.memo != "") {
					b.Fatalf("%+v %v", res, err)
				}
			}
		})
	}
}
