package build_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
	"github.com/temper-dev/temper/internal/layers"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/spec"
)

// groupsOf are the layer groups of an image, bottom first.
func groupsOf(ls []v1.Descriptor) []string {
	var out []string
	for _, d := range ls {
		out = append(out, d.Annotations[oci.AnnotationLayerGroup])
	}
	return out
}

// wantGroups are gs's names and the generated layer's.
func wantGroups(gs []layers.Group, err error) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Name)
	}
	return append(out, "temper: generated files")
}

func lockedPackages(t *testing.T, path string) []spec.LockedPackage {
	t.Helper()
	l, err := spec.LoadLock(path)
	if err != nil {
		t.Fatal(err)
	}
	return l.Architectures["amd64"].Packages
}

// TestVariantHoldsRuntimeLayers: a variant's image holds every package
// layer of its runtime's image (same digests, same order, at the bottom),
// then at most 2 layers of its own packages and the generated layer,
// within the budget; the runtime leaves those 2 layers to its variants; a
// runtime without variants is split as before (layers.Split alone); and
// adding a variant to a definition changes only that definition's images.
func TestVariantHoldsRuntimeLayers(t *testing.T) {
	f := buildtest.NewFixture(t)
	lib := func(name string) testarchive.Package {
		return buildtest.DebPkg(t, name, "1.0", "libc6", debtest.File{Path: "./usr/lib/x86_64-linux-gnu/" + name + ".so.1", Data: []byte(name + " code")})
	}
	f.Extra = []testarchive.Package{
		lib("libfoo"), lib("libbar"), lib("libbaz"),
		buildtest.DebPkg(t, "cc", "12", "libc6, libbaz", debtest.File{Path: "./usr/bin/cc", Mode: 0o755, Data: []byte("a compiler")}),
		buildtest.DebPkg(t, "make", "4.3", "libc6", debtest.File{Path: "./usr/bin/make", Mode: 0o755, Data: []byte("make")}),
	}
	for p, data := range f.Archive().Files(t) {
		f.Server.SetFile(p, data)
	}
	dir := t.TempDir()
	const head = "version: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\n"
	buildtest.WriteDef(t, dir, "tool.yaml", "name: tool\n"+head+"packages: [tool]\n")
	app := "name: app\n" + head + "packages: [tool, other, libfoo, libbar]\n"
	buildtest.WriteDef(t, dir, "app.yaml", app)
	before, layout, _ := buildAll(t, f, dir, build.Options{Parallel: 2})
	appPkgs := lockedPackages(t, filepath.Join(dir, "app.lock.yaml"))
	toolPkgs := lockedPackages(t, filepath.Join(dir, "tool.lock.yaml"))
	if got, want := groupsOf(layersOf(t, layout, "app:1")), wantGroups(layers.Split(appPkgs, 7)); !reflect.DeepEqual(got, want) {
		t.Fatalf("app without variants: layers %v, want the per-image rule's %v", got, want)
	}

	// app gets a dev variant: cc (and libbaz) and make, and the shell that
	// tool ships, which the runtime's hardening removes: the variant's
	// layer of tool stays the runtime's, the shell goes up into its own.
	buildtest.WriteDef(t, dir, "app.yaml", app+"variants:\n  dev:\n    packages: [cc, make]\n    shell: true\n")
	for _, budget := range []int{0, 5} {
		after, layout, _ := buildAll(t, f, dir, build.Options{Parallel: 2, LayerBudget: budget})
		b := budget
		if b == 0 {
			b = layers.DefaultBudget
			if after["tool:1"] != before["tool:1"] {
				t.Errorf("adding a variant to app moved tool: %s -> %s", before["tool:1"], after["tool:1"])
			}
			if after["app:1"] == before["app:1"] {
				t.Error("app has a variant now but kept its digest")
			}
		}
		tool := layersOf(t, layout, "tool:1")
		if got, want := groupsOf(tool), wantGroups(layers.Split(toolPkgs, b-1)); !reflect.DeepEqual(got, want) {
			t.Errorf("budget %d: tool (no variants): %v, want the per-image rule's %v", b, got, want)
		}
		rt, dev := layersOf(t, layout, "app:1"), layersOf(t, layout, "app:1-dev")
		if got, want := groupsOf(rt), wantGroups(layers.SplitRuntime(appPkgs, b-1)); !reflect.DeepEqual(got, want) || len(rt) > b-2 {
			t.Errorf("budget %d: app: %v, want %v within %d layers", b, got, want, b-2)
		}
		n := len(rt) - 1 // the runtime's package layers
		if len(dev) <= n {
			t.Fatalf("budget %d: dev has %d layers, the runtime %d package layers", b, len(dev), n)
		}
		for i := range n {
			if dev[i].Digest != rt[i].Digest || dev[i].Annotations[oci.AnnotationLayerGroup] != rt[i].Annotations[oci.AnnotationLayerGroup] {
				t.Errorf("budget %d: dev layer %d is %s (%s), the runtime's %s (%s)", b, i, dev[i].Digest, groupsOf(dev[i:i+1]), rt[i].Digest, groupsOf(rt[i:i+1]))
			}
		}
		own := dev[n : len(dev)-1]
		if len(own) < 1 || len(own) > 2 || len(dev) > b {
			t.Errorf("budget %d: dev: %d layers, %d of its own packages: %v", b, len(dev), len(own), groupsOf(dev))
		}
		if g := dev[len(dev)-1].Annotations[oci.AnnotationLayerGroup]; g != "temper: generated files" {
			t.Errorf("budget %d: dev's top layer is %q", b, g)
		}
		devPkgs := lockedPackages(t, filepath.Join(dir, "app.dev.lock.yaml"))
		if got, want := groupsOf(dev), wantGroups(layers.SplitVariant(appPkgs, devPkgs, b-1)); !reflect.DeepEqual(got, want) {
			t.Errorf("budget %d: dev: %v, want %v", b, got, want)
		}
		for _, d := range own {
			if slices.ContainsFunc(rt, func(r v1.Descriptor) bool { return r.Digest == d.Digest }) {
				t.Errorf("budget %d: dev's own layer %s is the runtime's", b, d.Digest)
			}
		}
		// The images' files: the variant has the shell, the runtime not,
		// both have tool.
		files := func(ref string) map[string]string {
			idx, err := oci.ReadLayoutRef(layout, ref)
			if err != nil {
				t.Fatal(err)
			}
			img, err := oci.ImageFor(idx, "amd64")
			if err != nil {
				t.Fatal(err)
			}
			return variantTree(t, img)
		}
		rf, df := files("app:1"), files("app:1-dev")
		if _, ok := df["usr/bin/sh"]; !ok {
			t.Errorf("budget %d: dev lacks the shell", b)
		}
		if _, ok := rf["usr/bin/sh"]; ok {
			t.Errorf("budget %d: the runtime has the shell", b)
		}
		for p, data := range rf {
			if p == "etc/passwd" || p == "etc/group" || strings.HasPrefix(p, "etc/") && df[p] != data {
				continue // generated: the variant runs as its own user
			}
			if got, ok := df[p]; !ok || got != data {
				t.Errorf("budget %d: dev's %s differs from the runtime's", b, p)
			}
		}
	}

	// A budget of 2 leaves nothing to reserve: each image is one package
	// layer and its generated layer.
	_, layout2, _ := buildAll(t, f, dir, build.Options{Parallel: 2, LayerBudget: 2})
	for _, ref := range []string{"app:1", "app:1-dev"} {
		if ls := layersOf(t, layout2, ref); len(ls) != 2 {
			t.Errorf("budget 2: %s has %d layers: %v", ref, len(ls), groupsOf(ls))
		}
	}

	// The variant builds on the runtime's lock: without it, the build
	// says which lock and how to make it, and the build key moves.
	vd, vl, err := build.LoadTarget(filepath.Join(dir, "app.yaml"), "dev")
	if err != nil {
		t.Fatal(err)
	}
	key := build.BuildKey(vd, vl)
	if err := os.Remove(filepath.Join(dir, "app.lock.yaml")); err != nil {
		t.Fatal(err)
	}
	_, err = build.Build(context.Background(), filepath.Join(dir, "app.yaml"), build.Options{Fetcher: f.Fetcher(t.TempDir()), Output: t.TempDir(), Variant: "dev"})
	if err == nil || !strings.Contains(err.Error(), "app.lock.yaml") || !strings.Contains(err.Error(), "temper lock") {
		t.Errorf("variant without its runtime's lock: %v", err)
	}
	if build.BuildKey(vd, vl) == key {
		t.Error("the variant's build key does not depend on its runtime's lock")
	}
}
