package build_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/lock"
)

// TestSkippedBuildCleansLayoutLeftovers: a build skipped because the
// layout already holds it still removes what an interrupted writer left
// there (temporary blobs and index files nobody holds), so leftovers do
// not wait for the next build that writes.
func TestSkippedBuildCleansLayoutLeftovers(t *testing.T) {
	f := buildtest.NewFixture(t)
	dir := t.TempDir()
	def := buildtest.WriteDef(t, dir, "tool.yaml", "name: tool\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool]\n")
	cacheDir := t.TempDir()
	ctx := context.Background()
	if outs, err := lock.Run(ctx, []string{dir}, lock.Options{Client: f.Client(cacheDir)}); err != nil || outs[0].Err != nil {
		t.Fatalf("lock: %v %+v", err, outs)
	}
	out := filepath.Join(dir, "out")
	if _, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(cacheDir), Output: out}); err != nil {
		t.Fatal(err)
	}
	dead := []string{filepath.Join(out, ".tmp-index.json-123"), filepath.Join(out, "blobs", "sha256", ".tmp-0123456789ab-456")}
	for _, p := range dead {
		if err := os.WriteFile(p, []byte("half a blob"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(cacheDir), Output: out})
	if err != nil || !res.Skipped {
		t.Fatalf("second build not skipped: %+v %v", res, err)
	}
	for _, p := range dead {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived a skipped build: %v", p, err)
		}
	}
}
