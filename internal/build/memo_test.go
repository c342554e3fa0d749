package build_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/oci"
)

// memoCatalog is a locked catalog: tool (with a variant, dev) and other.
type memoCatalog struct {
	f     *buildtest.Fixture
	dir   string
	files []string
	cache string // the cache directory: debs, layers, builds
}

const memoHead = "version: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\n"

func newMemoCatalog(t testing.TB, f *buildtest.Fixture) *memoCatalog {
	dir := t.TempDir()
	c := &memoCatalog{f: f, dir: dir, cache: t.TempDir()}
	c.files = []string{
		buildtest.WriteDef(t.(*testing.T), dir, "tool.yaml", "name: tool\n"+memoHead+"packages: [tool]\nvariants:\n  dev:\n    packages: [other]\n    shell: true\n"),
		buildtest.WriteDef(t.(*testing.T), dir, "other.yaml", "name: other\n"+memoHead+"packages: [other]\n"),
	}
	c.lock(t)
	return c
}

func (c *memoCatalog) lock(t testing.TB) {
	t.Helper()
	outs, err := lock.Run(context.Background(), []string{c.dir}, lock.Options{Client: c.f.Client(t.TempDir())})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Err != nil {
			t.Fatalf("lock %s: %v", o.Definition, o.Err)
		}
	}
}

// options are the CLI's: the cache's debs, layers and build memo, and a
// fresh layout. offline fetches from an empty .deb cache without the
// network: a build that needs a .deb fails.
func (c *memoCatalog) options(t testing.TB, offline bool) build.Options {
	debs := filepath.Join(c.cache, "debs")
	if offline {
		debs = t.TempDir()
	}
	fe := c.f.Fetcher(debs)
	fe.Offline = offline
	return build.Options{
		Fetcher: fe,
		Output:  filepath.Join(t.TempDir(), "layout"),
		Layers:  &oci.LayerCache{Dir: filepath.Join(c.cache, "layers")},
		MemoDir: filepath.Join(c.cache, "builds"),
	}
}

// buildAll builds the catalog with opt and returns the results by
// reference.
func (c *memoCatalog) buildAll(t testing.TB, opt build.Options) map[string]*build.Result {
	t.Helper()
	got := map[string]*build.Result{}
	build.All(context.Background(), c.files, opt, func(o build.Outcome) {
		if o.Err != nil {
			t.Fatalf("build %s %s: %v", o.File, o.Variant, o.Err)
		}
		got[o.Result.Ref] = o.Result
	})
	return got
}

// checkLayout reads every reference back and checks every blob: present,
// hashing to its name, and each index valid.
func checkLayout(t *testing.T, layout string, refs map[string]*build.Result) {
	t.Helper()
	for ref, res := range refs {
		idx, err := oci.ReadLayoutRef(layout, ref)
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := idx.Digest(); d.String() != res.IndexDigest {
			t.Errorf("%s: the layout holds %s, the build reported %s", ref, d, res.IndexDigest)
		}
		if err := oci.Validate(idx); err != nil {
			t.Errorf("%s: %v", ref, err)
		}
	}
	blobs, _ := filepath.Glob(filepath.Join(layout, "blobs", "sha256", "*"))
	for _, p := range blobs {
		if got := fileSHA256(t, p); got != filepath.Base(p) {
			t.Errorf("blob %s hashes to %s", p, got)
		}
	}
}

func fileSHA256(t *testing.T, p string) string {
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sameBuilds checks that got built every image of want, with the same
// digests and reports, from the memo or not as memo says.
func sameBuilds(t *testing.T, what string, got, want map[string]*build.Result, memo bool) {
	t.Helper()
	for ref, w := range want {
		g := got[ref]
		if g == nil || g.IndexDigest != w.IndexDigest || g.Memo != memo || g.Skipped {
			t.Errorf("%s: %s: %+v, want digest %s, memo %v", what, ref, g, w.IndexDigest, memo)
			continue
		}
		for i, im := range w.Images {
			gi := g.Images[i]
			if gi.Arch != im.Arch || gi.Digest != im.Digest || gi.Packages != im.Packages || gi.Layers != im.Layers || gi.CompressedSize != im.CompressedSize || gi.UncompressedSize != im.UncompressedSize || len(gi.Report.Env) != len(im.Report.Env) {
				t.Errorf("%s: %s: image %+v, built %+v", what, ref, gi, im)
			}
		}
	}
}

// TestMemoFreshLayout: a catalog built once is written into a fresh
// layout from the build memo (runtime, variant and another image), with
// no .deb at hand, to the same digests, in a layout that reads back whole.
func TestMemoFreshLayout(t *testing.T) {
	c := newMemoCatalog(t, buildtest.NewFixture(t))
	a := c.buildAll(t, c.options(t, false))
	if len(a) != 3 {
		t.Fatalf("built %d images, want 3", len(a))
	}
	for ref, r := range a {
		if r.Memo {
			t.Errorf("%s: the first build came from the memo", ref)
		}
	}
	opt := c.options(t, true)
	b := c.buildAll(t, opt)
	sameBuilds(t, "fresh layout", b, a, true)
	checkLayout(t, opt.Output, b)
	// Into the same layout again: skipped, as before the memo.
	for ref, r := range c.buildAll(t, opt) {
		if !r.Skipped {
			t.Errorf("%s: not skipped in a layout that holds it", ref)
		}
	}
}

// TestMemoVariantWithoutEntry: the runtime comes from the memo, its
// variant's entry is gone: the variant assembles its runtime's tree itself
// (no runtime build hands its layers over) and builds to the same digest.
func TestMemoVariantWithoutEntry(t *testing.T) {
	c := newMemoCatalog(t, buildtest.NewFixture(t))
	a := c.buildAll(t, c.options(t, false))
	entries, _ := filepath.Glob(filepath.Join(c.cache, "builds", "*", "*.json"))
	removed := 0
	for _, p := range entries {
		if raw, err := os.ReadFile(p); err == nil && strings.Contains(string(raw), `"Ref":"tool:1-dev"`) {
			os.Remove(p)
			removed++
		}
	}
	if removed != 1 {
		t.Fatalf("removed %d entries of tool:1-dev", removed)
	}
	opt := c.options(t, false)
	b := c.buildAll(t, opt)
	dev := map[string]*build.Result{"tool:1-dev": a["tool:1-dev"]}
	delete(a, "tool:1-dev")
	sameBuilds(t, "with an entry", b, a, true)
	sameBuilds(t, "without", b, dev, false)
	checkLayout(t, opt.Output, b)
}

// TestMemoOtherBinary: another temper executable does not read this one's
// entries: offline, its builds need the .debs and fail; online, they
// build in full to the same digests.
func TestMemoOtherBinary(t *testing.T) {
	c := newMemoCatalog(t, buildtest.NewFixture(t))
	a := c.buildAll(t, c.options(t, false))
	defer build.SetExecutableHash("another temper")()
	failed := 0
	build.All(context.Background(), c.files, c.options(t, true), func(o build.Outcome) {
		if o.Err == nil {
			t.Errorf("%s %s: built offline by another binary: %+v", o.File, o.Variant, o.Result)
		}
		failed++
	})
	if failed != 3 {
		t.Errorf("%d builds, want 3", failed)
	}
	sameBuilds(t, "another binary", c.buildAll(t, c.options(t, false)), a, false)
}

// TestMemoNewBuildKey: a changed definition (a new lock and build key) is
// built in full, never written from the old entry.
func TestMemoNewBuildKey(t *testing.T) {
	c := newMemoCatalog(t, buildtest.NewFixture(t))
	a := c.buildAll(t, c.options(t, false))
	buildtest.WriteDef(t, c.dir, "other.yaml", "name: other\n"+memoHead+"packages: [other]\nimage:\n  env:\n    GREETING: hello\n")
	c.lock(t)
	b := c.buildAll(t, c.options(t, false))
	if r := b["other:1"]; r.Memo || r.IndexDigest == a["other:1"].IndexDigest || r.BuildKey == a["other:1"].BuildKey {
		t.Errorf("changed other: %+v, first built %s", r, a["other:1"].IndexDigest)
	}
	delete(a, "other:1")
	sameBuilds(t, "the unchanged", b, a, true)
}

// layerBlob is the layer cache's file of the first layer of ref's image in
// layout.
func layerBlob(t *testing.T, c *memoCatalog, layout, ref string) string {
	d := layersOf(t, layout, ref)[0].Digest
	blobs, _ := filepath.Glob(filepath.Join(c.cache, "layers", "*", "*.blob"))
	for _, p := range blobs {
		if fileSHA256(t, p) == d.Hex {
			return p
		}
	}
	t.Fatalf("no cached file of layer %s", d)
	return ""
}

// TestMemoFallsBack: an entry that cannot be used — a layer gone from the
// layer cache, an entry that is not JSON, a cached layer file whose bytes
// changed (WriteLayout's check) — gives the full build, to the same
// digests, and the full build writes the entry again.
func TestMemoFallsBack(t *testing.T) {
	c := newMemoCatalog(t, buildtest.NewFixture(t))
	opt := c.options(t, false)
	a := c.buildAll(t, opt)
	one := map[string]*build.Result{"other:1": a["other:1"]}
	buildOther := func(what string, memo bool) {
		t.Helper()
		o := c.options(t, memo)
		res, err := build.Build(context.Background(), c.files[1], o)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		sameBuilds(t, what, map[string]*build.Result{"other:1": res}, one, memo)
		checkLayout(t, o.Output, map[string]*build.Result{"other:1": res})
	}

	if err := os.Remove(layerBlob(t, c, opt.Output, "other:1")); err != nil {
		t.Fatal(err)
	}
	buildOther("a layer gone", false)
	buildOther("after the layer's rebuild", true)

	entries, _ := filepath.Glob(filepath.Join(c.cache, "builds", "*", "*.json"))
	if len(entries) != 3 {
		t.Fatalf("%d memo entries, want 3", len(entries))
	}
	for _, p := range entries {
		if err := os.WriteFile(p, []byte("{not json"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	buildOther("a corrupt entry", false)
	buildOther("after the entry's rewrite", true)

	p := layerBlob(t, c, opt.Output, "other:1")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	buildOther("a tampered layer file", false)
	buildOther("after the tampered layer's rebuild", true)
}

// TestMemoFullPath: --force, a tarball and an SBOM directory build in full
// even with an entry at hand.
func TestMemoFullPath(t *testing.T) {
	c := newMemoCatalog(t, buildtest.NewFixture(t))
	a := c.buildAll(t, c.options(t, false))
	for what, set := range map[string]func(*build.Options){
		"force":    func(o *build.Options) { o.Force = true },
		"tarball":  func(o *build.Options) { o.Tarball = filepath.Join(t.TempDir(), "other.tar") },
		"sbom-dir": func(o *build.Options) { o.SBOMDir = t.TempDir() },
	} {
		o := c.options(t, false)
		set(&o)
		res, err := build.Build(context.Background(), c.files[1], o)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		sameBuilds(t, what, map[string]*build.Result{"other:1": res}, map[string]*build.Result{"other:1": a["other:1"]}, false)
	}
}
