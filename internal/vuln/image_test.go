package vuln_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/vuln"
)

// TestImageLock: a built image's status.d read back as a lock matches the
// lock it was built from, and scans the same.
func TestImageLock(t *testing.T) {
	f := buildtest.NewFixture(t)
	dir := t.TempDir()
	def := buildtest.WriteDef(t, dir, "tool.yaml", "name: tool\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool, other]\n")
	ctx := context.Background()
	if outs, err := lock.Run(ctx, []string{def}, lock.Options{Client: f.Client(t.TempDir())}); err != nil || outs[0].Err != nil {
		t.Fatalf("lock: %v %+v", err, outs)
	}
	out := filepath.Join(dir, "layout")
	if _, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(t.TempDir()), Output: out}); err != nil {
		t.Fatal(err)
	}
	idx, err := oci.ReadLayoutRef(out, "tool:1")
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := vuln.ImageLock(idx)
	if err != nil {
		t.Fatal(err)
	}
	_, want, _ := build.Load(def)
	if l.Release != "bookworm" || len(l.Architectures) != 1 || l.Architectures["amd64"] == nil {
		t.Fatalf("image lock %+v", l)
	}
	got, exp := l.Architectures["amd64"].Packages, want.Architectures["amd64"].Packages
	if len(got) != len(exp) {
		t.Fatalf("packages %+v, want %+v", got, exp)
	}
	for i := range got {
		g, w := got[i], exp[i]
		if g.Name != w.Name || g.Version != w.Version || g.Architecture != w.Architecture || g.Source != w.Source || vuln.SourceVersion(g) != vuln.SourceVersion(w) {
			t.Errorf("package %d: %+v, want %+v", i, g, w)
		}
	}
	tracker := filepath.Join(dir, "tracker.json")
	os.WriteFile(tracker, []byte(`{"other": {"CVE-2025-1": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "2.1", "urgency": "high"}}}}}`), 0o644)
	c, _ := cache.Open(t.TempDir())
	db, err := vuln.Load(c, vuln.Files{Tracker: tracker}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if img := vuln.Scan("x", l, db); len(img.Findings) != 1 || img.Findings[0].Status != vuln.Fixable || img.Findings[0].Packages[0] != "other" {
		t.Errorf("scan of the image: %+v", img.Findings)
	}
}

func TestSourceField(t *testing.T) {
	for _, c := range []struct{ field, pkg, version, src, srcVersion string }{
		{"", "libc6", "2.36-9", "libc6", "2.36-9"},
		{"glibc", "libc6", "2.36-9+deb12u10", "glibc", "2.36-9+deb12u10"},
		{"openssl (3.0.17-1~deb12u2)", "libssl3", "3.0.17-1~deb12u2+b1", "openssl", "3.0.17-1~deb12u2"},
		{"gcc-12 (12.2.0-14+deb12u1)", "libgcc-s1", "1:12.2.0-14+deb12u1", "gcc-12", "12.2.0-14+deb12u1"},
	} {
		src, v := vuln.SourceField(c.field, c.pkg, c.version)
		if src != c.src || v != c.srcVersion {
			t.Errorf("SourceField(%q, %q, %q) = %q %q, want %q %q", c.field, c.pkg, c.version, src, v, c.src, c.srcVersion)
		}
	}
}
