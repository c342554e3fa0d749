package build_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/spec"
)

// TestLocalDebs: a local_debs: .deb that depends on a fixture-archive
// package is resolved with the archive (the lock holds both, the local one
// pinned by SHA-256 with repository "local"), the image holds its files;
// changing the .deb refuses the build, naming it, until the lock is made
// again.
func TestLocalDebs(t *testing.T) {
	f := buildtest.NewFixture(t)
	dir := t.TempDir()
	debPath := filepath.Join(dir, "debs", "inhouse_1.0_amd64.deb")
	os.MkdirAll(filepath.Dir(debPath), 0o755)
	writeDeb := func(content string) {
		t.Helper()
		data := debtest.Build(t, debtest.Spec{
			Control:  "Package: inhouse\nVersion: 1.0\nArchitecture: amd64\nMaintainer: T <t@example.org>\nDepends: libc6\nDescription: in-house tool\n",
			Files:    []debtest.File{{Path: "./usr/bin/inhouse", Mode: 0o755, Data: []byte(content)}},
			AutoDirs: true,
		})
		if err := os.WriteFile(debPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeDeb("inhouse v1")
	def := buildtest.WriteDef(t, dir, "inhouse.yaml", "name: inhouse\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [inhouse]\n"+
		"local_debs:\n  - debs/inhouse_1.0_amd64.deb\n")
	cacheDir := t.TempDir()
	ctx := context.Background()
	relock := func() *spec.Lock {
		t.Helper()
		outs, err := lock.Run(ctx, []string{def}, lock.Options{Client: f.Client(cacheDir)})
		if err != nil || outs[0].Err != nil {
			t.Fatalf("lock: %v %+v", err, outs)
		}
		return outs[0].Lock
	}
	l := relock()
	lockText, _ := os.ReadFile(filepath.Join(dir, "inhouse.lock.yaml"))
	if !strings.Contains(string(lockText), "local_debs:\n  - {src: debs/inhouse_1.0_amd64.deb, sha256: ") {
		t.Fatalf("lock lacks the local .deb:\n%s", lockText)
	}
	got := map[string]string{}
	for _, p := range l.Architectures["amd64"].Packages {
		got[p.Name] = p.Repository
	}
	if len(got) != 2 || got["inhouse"] != spec.LocalRepository || got["libc6"] != "" {
		t.Fatalf("closure %v, want inhouse from local and libc6 from Debian", got)
	}
	if _, err := spec.ParseLock("inhouse.lock.yaml", lockText); err != nil {
		t.Fatalf("the lock does not parse back: %v", err)
	}

	out := filepath.Join(dir, "out")
	a, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(cacheDir), Output: out})
	if err != nil {
		t.Fatal(err)
	}
	files := imageFiles(t, out, "inhouse:1")
	if files["usr/bin/inhouse"] != "inhouse v1" || files["usr/lib/x86_64-linux-gnu/libc.so.6"] != "libc" {
		t.Fatalf("image files: inhouse %q, libc %q; %v", files["usr/bin/inhouse"], files["usr/lib/x86_64-linux-gnu/libc.so.6"], files)
	}

	writeDeb("inhouse v2")
	_, err = build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(cacheDir), Output: out})
	if err == nil || !strings.Contains(err.Error(), "debs/inhouse_1.0_amd64.deb") {
		t.Fatalf("changed .deb: %v", err)
	}
	relock()
	b, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(cacheDir), Output: out})
	if err != nil {
		t.Fatal(err)
	}
	if b.Skipped || b.BuildKey == a.BuildKey || b.IndexDigest == a.IndexDigest {
		t.Errorf("after the change: skipped %v, key %s vs %s", b.Skipped, b.BuildKey, a.BuildKey)
	}
	if got := imageFiles(t, out, "inhouse:1")["usr/bin/inhouse"]; got != "inhouse v2" {
		t.Errorf("after the change %q", got)
	}
}

// TestLocalDebsErrors: a missing file and a file that is not a .deb are
// reported at the entry's line.
func TestLocalDebsErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "junk.deb"), []byte("not an ar archive"), 0o644)
	head := "name: x\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [xx]\nlocal_debs:\n"
	for _, c := range []struct{ entry, want string }{
		{"  - missing.deb\n", "x.yaml:8:5: local_debs[0]"},
		{"  - junk.deb\n", "is not a Debian package"},
		{"  - x.txt\n", "is not a .deb file"},
		{"  - ../up.deb\n", "outside the definition's directory"},
	} {
		def := buildtest.WriteDef(t, dir, "x.yaml", head+c.entry)
		_, err := spec.LoadDefinition(def)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.entry, err, c.want)
		}
	}
}
