package build_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/oci"
)

// buildAll locks dir and builds every definition in it (runtimes and
// variants) into a fresh layout with one layer cache; it returns the
// index digest per reference, the layout and the cache.
func buildAll(t *testing.T, f *buildtest.Fixture, dir string, opt build.Options) (map[string]string, string, *oci.LayerCache) {
	t.Helper()
	outs, err := lock.Run(context.Background(), []string{dir}, lock.Options{Client: f.Client(t.TempDir())})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, o := range outs {
		if o.Err != nil {
			t.Fatalf("lock %s: %v", o.Definition, o.Err)
		}
		if !slices.Contains(files, o.Definition) { // a variant's lock names its definition
			files = append(files, o.Definition)
		}
	}
	opt.Fetcher = f.Fetcher(t.TempDir())
	opt.Output = filepath.Join(t.TempDir(), "layout")
	opt.Layers = &oci.LayerCache{}
	got := map[string]string{}
	build.All(context.Background(), files, opt, func(o build.Outcome) {
		if o.Err != nil {
			t.Fatalf("build %s %s: %v", o.File, o.Variant, o.Err)
		}
		got[o.Result.Ref] = o.Result.IndexDigest
	})
	return got, opt.Output, opt.Layers
}

func layersOf(t *testing.T, layout, ref string) []v1.Descriptor {
	t.Helper()
	idx, err := oci.ReadLayoutRef(layout, ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := oci.ImageFor(idx, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	return m.Layers
}

// TestUnrelatedDefinitionChangesNoDigest: adding a definition to the
// catalog, and changing or removing another, leaves every other image's
// digest as it was; images of one release share their common package
// layers, which the layout stores once and the build compresses once.
func TestUnrelatedDefinitionChangesNoDigest(t *testing.T) {
	f := buildtest.NewFixture(t)
	dir := t.TempDir()
	const head = "version: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\n"
	buildtest.WriteDef(t, dir, "tool.yaml", "name: tool\n"+head+"packages: [tool]\n")
	buildtest.WriteDef(t, dir, "other.yaml", "name: other\n"+head+"packages: [other]\n")
	before, layout, cache := buildAll(t, f, dir, build.Options{Parallel: 2})

	// tool and other share libc6's layer, byte for byte (and here, where
	// both have the same accounts and lock date, the generated files).
	tool, other := layersOf(t, layout, "tool:1"), layersOf(t, layout, "other:1")
	shared := map[v1.Hash]string{}
	for _, a := range tool {
		for _, b := range other {
			if a.Digest == b.Digest {
				shared[a.Digest] = a.Annotations[oci.AnnotationLayerGroup]
			}
		}
	}
	if tool[0].Annotations[oci.AnnotationLayerGroup] != "libc6" || shared[tool[0].Digest] != "libc6" {
		t.Fatalf("tool and other do not share libc6's layer: %v / %v", tool, other)
	}
	// Built once, stored once.
	distinct := map[v1.Hash]bool{}
	for _, d := range append(tool, other...) {
		distinct[d.Digest] = true
	}
	if st := cache.Stats(); st.Built != int64(len(distinct)) || st.Hits != int64(len(shared)) {
		t.Errorf("layer cache: %+v; want %d built, %d hits (the shared layers)", st, len(distinct), len(shared))
	}
	for d := range shared {
		if _, err := os.Stat(filepath.Join(layout, "blobs", "sha256", d.Hex)); err != nil {
			t.Errorf("shared layer not in the layout: %v", err)
		}
	}

	// Add a definition holding both packages, change other's.
	buildtest.WriteDef(t, dir, "both.yaml", "name: both\n"+head+"packages: [tool, other]\n")
	after, _, _ := buildAll(t, f, dir, build.Options{Parallel: 2})
	if after["tool:1"] != before["tool:1"] || after["other:1"] != before["other:1"] {
		t.Fatalf("adding a definition moved digests: before %v, after %v", before, after)
	}
	buildtest.WriteDef(t, dir, "other.yaml", "name: other\n"+head+"packages: [other]\nimage:\n  env: {A: b}\n")
	os.Remove(filepath.Join(dir, "both.yaml"))
	os.Remove(filepath.Join(dir, "both.lock.yaml"))
	changed, _, _ := buildAll(t, f, dir, build.Options{Parallel: 1})
	if changed["tool:1"] != before["tool:1"] {
		t.Fatalf("changing other and removing both moved tool: %s -> %s", before["tool:1"], changed["tool:1"])
	}
	if changed["other:1"] == before["other:1"] {
		t.Fatal("other changed but kept its digest")
	}
}

// TestZstdAndBudget: compression: zstd in a definition (or the options)
// gives tar+zstd layers, and a budget of 2 gives one package layer and the
// generated files.
func TestZstdAndBudget(t *testing.T) {
	f := buildtest.NewFixture(t)
	dir := t.TempDir()
	buildtest.WriteDef(t, dir, "tool.yaml", "name: tool\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool, other]\ncompression: zstd\n")
	got, layout, _ := buildAll(t, f, dir, build.Options{})
	ls := layersOf(t, layout, "tool:1")
	if len(ls) != 4 { // libc6, tool, other, generated
		t.Errorf("%d layers, want 4", len(ls))
	}
	for _, d := range ls {
		if d.MediaType != types.OCILayerZStd {
			t.Errorf("layer %s: %s", d.Digest, d.MediaType)
		}
	}
	small, layout2, _ := buildAll(t, f, dir, build.Options{LayerBudget: 2, Compression: "gzip"})
	if ls := layersOf(t, layout2, "tool:1"); len(ls) != 2 {
		t.Errorf("budget 2: %d layers", len(ls))
	}
	if small["tool:1"] == got["tool:1"] {
		t.Error("the budget did not change the image")
	}
	plain := buildtest.WriteDef(t, dir, "plain.yaml", "name: plain\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool]\n")
	buildAll(t, f, dir, build.Options{})
	if _, err := build.Build(context.Background(), plain, build.Options{Fetcher: f.Fetcher(t.TempDir()), Output: t.TempDir(), Compression: "lz4"}); err == nil {
		t.Error("compression lz4 accepted")
	}
}
