package build_test

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/oci"
)

// TestFilesFromCatalog: a files: entry is written into the image with its
// mode and owner; changing the file refuses the build until the lock is
// made again, and the new lock changes the build key and the image.
func TestFilesFromCatalog(t *testing.T) {
	f := buildtest.NewFixture(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "conf", "tool.conf")
	os.MkdirAll(filepath.Dir(conf), 0o755)
	os.WriteFile(conf, []byte("level = 1\n"), 0o644)
	def := buildtest.WriteDef(t, dir, "tool.yaml", "name: tool\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool]\n"+
		"files:\n  - src: conf/tool.conf\n    dest: /etc/tool/tool.conf\n    mode: \"0640\"\n    owner: \"0:65532\"\n")
	cacheDir := t.TempDir()
	ctx := context.Background()
	relock := func() {
		t.Helper()
		if outs, err := lock.Run(ctx, []string{dir}, lock.Options{Client: f.Client(cacheDir)}); err != nil || outs[0].Err != nil {
			t.Fatalf("lock: %v %+v", err, outs)
		}
	}
	relock()
	lockText, _ := os.ReadFile(filepath.Join(dir, "tool.lock.yaml"))
	if !strings.Contains(string(lockText), "files:\n  - {src: conf/tool.conf, sha256: ") {
		t.Fatalf("lock lacks the file:\n%s", lockText)
	}
	out := filepath.Join(dir, "out")
	a, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(cacheDir), Output: out})
	if err != nil {
		t.Fatal(err)
	}
	h := fileHeader(t, out, "tool:1", "etc/tool/tool.conf")
	if h == nil || h.Mode&0o7777 != 0o640 || h.Uid != 0 || h.Gid != 65532 {
		t.Fatalf("etc/tool/tool.conf: %+v", h)
	}
	if got := imageFiles(t, out, "tool:1")["etc/tool/tool.conf"]; got != "level = 1\n" {
		t.Errorf("content %q", got)
	}

	os.WriteFile(conf, []byte("level = 2\n"), 0o644)
	_, err = build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(cacheDir), Output: out})
	if err == nil || !strings.Contains(err.Error(), "files: changed since the lock") || !strings.Contains(err.Error(), "conf/tool.conf") {
		t.Fatalf("changed file: %v", err)
	}
	relock()
	b, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(cacheDir), Output: out})
	if err != nil {
		t.Fatal(err)
	}
	if b.Skipped || b.BuildKey == a.BuildKey || b.IndexDigest == a.IndexDigest {
		t.Errorf("after the change: skipped %v, key %s vs %s, digest %s vs %s", b.Skipped, b.BuildKey, a.BuildKey, b.IndexDigest, a.IndexDigest)
	}
	if got := imageFiles(t, out, "tool:1")["etc/tool/tool.conf"]; got != "level = 2\n" {
		t.Errorf("content after the change %q", got)
	}
}

func fileHeader(t *testing.T, layout, ref, name string) *tar.Header {
	t.Helper()
	idx, err := oci.ReadLayoutRef(layout, ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := oci.ImageFor(idx, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil
		}
		if h.Name == name {
			return h
		}
	}
}
