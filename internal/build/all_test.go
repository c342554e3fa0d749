package build_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/lock"
)

// TestAllReportsInOrder: outcomes arrive in the order of the files, each
// exactly once, whatever order the builds finish in; a failed build does
// not stop the others.
func TestAllReportsInOrder(t *testing.T) {
	f := buildtest.NewFixture(t)
	dir := t.TempDir()
	bad := buildtest.WriteDef(t, t.TempDir(), "unlocked.yaml", "name: unlocked\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool]\n")
	tool := buildtest.WriteDef(t, dir, "tool.yaml", "name: tool\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool]\n")
	other := buildtest.WriteDef(t, dir, "other.yaml", "name: other\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [other]\n")
	if outs, err := lock.Run(context.Background(), []string{dir}, lock.Options{Client: f.Client(t.TempDir())}); err != nil || outs[0].Err != nil || outs[1].Err != nil {
		t.Fatalf("lock: %v %+v", err, outs)
	}
	files := []string{tool, bad, other}
	opt := build.Options{Fetcher: f.Fetcher(t.TempDir()), Output: filepath.Join(t.TempDir(), "store"), Parallel: 2}
	var got []build.Outcome
	build.All(context.Background(), files, opt, func(o build.Outcome) { got = append(got, o) })
	if len(got) != len(files) {
		t.Fatalf("%d outcomes for %d files", len(got), len(files))
	}
	for i, o := range got {
		if o.File != files[i] {
			t.Errorf("outcome %d is %s, want %s", i, o.File, files[i])
		}
	}
	if got[0].Err != nil || got[0].Result.Ref != "tool:1" || got[2].Err != nil || got[2].Result.Ref != "other:1" {
		t.Errorf("builds: %+v / %+v", got[0], got[2])
	}
	if got[1].Err == nil || !strings.Contains(got[1].Err.Error(), "no lock") {
		t.Errorf("unlocked definition: %v", got[1].Err)
	}
}

func TestParallelism(t *testing.T) {
	for _, c := range []struct{ parallel, n, want int }{{3, 10, 3}, {3, 2, 2}, {1, 5, 1}, {0, 1, 1}} {
		if got := (build.Options{Parallel: c.parallel}).Parallelism(c.n); got != c.want {
			t.Errorf("Parallel %d over %d: %d, want %d", c.parallel, c.n, got, c.want)
		}
	}
}
