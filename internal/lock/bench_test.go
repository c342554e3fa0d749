package lock_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/temper-dev/temper/internal/debian/livetest"
	"github.com/temper-dev/temper/internal/lock"
)

// BenchmarkLock300 locks a synthetic catalog of 300 definitions (bench/
// gencatalog: bookworm and trixie, amd64 and arm64) end to end from a warm
// cache: InRelease checks, one index load per release and architecture,
// 600 resolutions, lock writes. Target ≤ 3 s.
func BenchmarkLock300(b *testing.B) {
	dir := livetest.CacheDir(b)
	catalog := b.TempDir()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	gen := exec.Command("go", "run", "./bench/gencatalog", "-n", "300", "-out", catalog)
	gen.Dir = root
	if out, err := gen.CombinedOutput(); err != nil {
		b.Fatalf("gencatalog: %v\n%s", err, out)
	}
	run := func() {
		outs, err := lock.Run(context.Background(), []string{catalog}, lock.Options{Client: livetest.Client(b, dir, false)})
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range outs {
			if o.Err != nil {
				b.Fatal(o.Err)
			}
		}
	}
	run() // warm the cache and write the locks once
	for b.Loop() {
		run()
	}
}
