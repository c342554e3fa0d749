package build_test

import (
	"archive/tar"
	"context"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/spec"
)

func TestBuildReproducibleAndHardened(t *testing.T) {
	f := buildtest.NewFixture(t)
	dir := t.TempDir()
	def := buildtest.WriteDef(t, dir, "tool.yaml", "name: tool\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool, other]\nimage:\n  entrypoint: [/usr/bin/tool]\n")
	if outs, err := lock.Run(context.Background(), []string{dir}, lock.Options{Client: f.Client(t.TempDir())}); err != nil || outs[0].Err != nil {
		t.Fatalf("lock: %v %+v", err, outs)
	}
	ctx := context.Background()
	a, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(t.TempDir()), Output: filepath.Join(dir, "a")})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	b, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(t.TempDir()), Output: filepath.Join(dir, "b")})
	if err != nil {
		t.Fatal(err)
	}
	if a.IndexDigest != b.IndexDigest || a.Images[0].Digest != b.Images[0].Digest {
		t.Fatalf("same lock, different digests: %s vs %s", a.IndexDigest, b.IndexDigest)
	}
	// What is in the image.
	idx, err := oci.ReadLayoutRef(filepath.Join(dir, "a"), "tool:1")
	if err != nil {
		t.Fatal(err)
	}
	img, err := oci.ImageFor(idx, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := img.ConfigFile()
	if cfg.Config.User != "65532:65532" || strings.Join(cfg.Config.Entrypoint, " ") != "/usr/bin/tool" || !cfg.Created.Time.Equal(testarchive.DefaultDate) {
		t.Errorf("config: user %q entrypoint %v created %v", cfg.Config.User, cfg.Config.Entrypoint, cfg.Created)
	}
	// What the image holds: its layers applied in order.
	if layers, _ := img.Layers(); len(layers) < 2 {
		t.Errorf("%d layers; want package layers and the generated files", len(layers))
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	files := map[string]*tar.Header{}
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		files[strings.TrimSuffix(h.Name, "/")] = h
	}
	for _, want := range []string{"usr/bin/tool", "usr/lib/x86_64-linux-gnu/libc.so.6", "etc/passwd", "var/lib/dpkg/status.d/tool", "var/lib/dpkg/status.d/tool.md5sums", "tmp"} {
		if files[want] == nil {
			t.Errorf("image lacks %s", want)
		}
	}
	if h := files["lib"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "usr/lib" {
		t.Errorf("merged /usr: lib is %+v", h)
	}
	for _, gone := range []string{"usr/bin/sh", "usr/share/doc/tool/changelog.gz"} {
		if files[gone] != nil {
			t.Errorf("image still has %s", gone)
		}
	}
	if h := files["usr/bin/other"]; h == nil || h.Mode&0o6000 != 0 {
		t.Errorf("setuid bit kept: %+v", h)
	}
	if h := files["tmp"]; h.Mode&0o1777 != 0o1777 {
		t.Errorf("/tmp mode %o", h.Mode)
	}
}

// TestRebuildOnlyWhatChanged: a security update reaches one definition's
// lock; building the directory again rebuilds that image and skips the
// other.
func TestRebuildOnlyWhatChanged(t *testing.T) {
	f := buildtest.NewFixture(t)
	dir := t.TempDir()
	buildtest.WriteDef(t, dir, "tool.yaml", "name: tool\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool]\n")
	buildtest.WriteDef(t, dir, "other.yaml", "name: other\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [other]\n")
	cacheDir := t.TempDir()
	relock := func() {
		if outs, err := lock.Run(context.Background(), []string{dir}, lock.Options{Client: f.Client(cacheDir)}); err != nil || outs[0].Err != nil || outs[1].Err != nil {
			t.Fatalf("lock: %v %+v", err, outs)
		}
	}
	store := filepath.Join(t.TempDir(), "store")
	buildAll := func() map[string]bool {
		built := map[string]bool{}
		files, _ := spec.FindDefinitions([]string{dir})
		for _, def := range files {
			res, err := build.Build(context.Background(), def, build.Options{Fetcher: f.Fetcher(cacheDir), Output: store})
			if err != nil {
				t.Fatal(err)
			}
			built[filepath.Base(def)] = !res.Skipped
		}
		return built
	}
	relock()
	if got := buildAll(); !got["tool.yaml"] || !got["other.yaml"] {
		t.Fatalf("first build: %v", got)
	}
	if got := buildAll(); got["tool.yaml"] || got["other.yaml"] {
		t.Fatalf("nothing changed but rebuilt: %v", got)
	}
	// tool 1.0+deb12u1 arrives in -security.
	f.Extra = []testarchive.Package{buildtest.DebPkg(t, "tool", "1.0+deb12u1", "libc6", debtest.File{Path: "./usr/bin/tool", Mode: 0o755, Data: []byte("tool v1, fixed")})}
	for p, data := range f.Archive().Files(t) {
		f.Server.SetFile(p, data)
	}
	relock()
	if got := buildAll(); !got["tool.yaml"] || got["other.yaml"] {
		t.Fatalf("after tool's security update: rebuilt %v, want only tool", got)
	}
}

func TestBuildErrors(t *testing.T) {
	f := buildtest.NewFixture(t)
	dir := t.TempDir()
	def := buildtest.WriteDef(t, dir, "tool.yaml", "name: tool\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool]\n")
	_, err := build.Build(context.Background(), def, build.Options{Fetcher: f.Fetcher(t.TempDir()), Output: filepath.Join(dir, "out")})
	if err == nil || !strings.Contains(err.Error(), "temper lock") {
		t.Errorf("no lock: %v", err)
	}
	if outs, err := lock.Run(context.Background(), []string{def}, lock.Options{Client: f.Client(t.TempDir())}); err != nil || outs[0].Err != nil {
		t.Fatal(err)
	}
	// The definition changed after locking: stale lock.
	os.WriteFile(def, []byte("name: tool\nversion: \"2\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool]\n"), 0o644)
	_, err = build.Build(context.Background(), def, build.Options{Fetcher: f.Fetcher(t.TempDir()), Output: filepath.Join(dir, "out")})
	if err == nil || !strings.Contains(err.Error(), "different version of the definition") {
		t.Errorf("stale lock: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("a failed build wrote output")
	}
}
