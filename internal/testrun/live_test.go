package testrun_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/livetest"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/testrun"
)

// The catalog proof (CI=true or TEMPER_LIVE=1): every definition of
// examples/catalog is copied to a temporary directory, restricted to this
// machine's architecture, re-locked against the live archive (the committed
// locks go stale as the archive moves), built, and every one of its tests
// is run through podman. Every image must pass; the services really start
// (postgresql initialises its data directory, mariadb answers a query,
// redis PING, nginx serves a page, php-fpm answers FastCGI).
//
// The .deb cache is shared by all builds of the test and kept between runs
// ($TEMPER_TEST_CACHE, default the user's temper cache: content-addressed
// and verified on every read). Two images are built and tested at a time.
// $TEMPER_TEST_JUNIT names a file for the JUnit report.
func TestLiveCatalog(t *testing.T) {
	livetest.Mirrors(t)
	requirePodman(t)
	_, file, _, _ := runtime.Caller(0)
	repo := filepath.Join(filepath.Dir(file), "..", "..")
	catalog := filepath.Join(repo, "examples", "catalog")
	conf := filepath.Join(repo, "ci", "containers.conf")

	ctx := liveContext(t)
	cacheDir := liveCacheDir(t)
	arch := testrun.HostArch()
	dir := t.TempDir()
	defs := copyCatalog(t, catalog, dir, arch)
	if len(defs) < 24 {
		t.Fatalf("the catalog has %d definitions, want at least 24", len(defs))
	}

	start := time.Now()
	outs, err := lock.Run(ctx, []string{dir}, lock.Options{Client: livetest.Client(t, cacheDir, false)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Err != nil {
			t.Errorf("lock: %v", o.Err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("re-locked %d definitions for %s in %.1fs", len(outs), arch, time.Since(start).Seconds())

	c, err := cache.Open(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	f := &pool.Fetcher{Mirrors: livetest.Mirrors(t), Cache: c, HTTP: fetch.New("temper-test")}
	eng := &testrun.CLI{Program: "podman", Bin: "podman", Env: []string{"CONTAINERS_CONF=" + conf}}

	reports := make([]*testrun.Report, len(defs))
	var mu sync.Mutex
	var buildTime time.Duration
	var g errgroup.Group
	g.SetLimit(2)
	start = time.Now()
	for i, def := range defs {
		g.Go(func() error {
			layout := filepath.Join(dir, "layouts", strings.TrimSuffix(filepath.Base(def), ".yaml")+"-"+filepath.Base(filepath.Dir(def)))
			bs := time.Now()
			res, err := build.Build(ctx, def, build.Options{Fetcher: f, Output: layout})
			if err != nil {
				reports[i] = &testrun.Report{Definition: def, Err: "build: " + err.Error()}
				return nil
			}
			mu.Lock()
			buildTime += time.Since(bs)
			mu.Unlock()
			reports[i] = testrun.RunFile(ctx, def, testrun.Source{Layout: layout, Arch: arch}, testrun.Options{Engine: eng})
			t.Logf("%s: %s, %d tests, %d failed", filepath.Base(filepath.Dir(def))+"/"+filepath.Base(def), res.Ref, len(reports[i].Tests), reports[i].Failed())
			return nil
		})
	}
	g.Wait()
	var summary bytes.Buffer
	testrun.WriteSummary(&summary, reports)
	t.Logf("built and tested %d images in %.1fs (builds %.1fs of worker time)\n%s", len(defs), time.Since(start).Seconds(), buildTime.Seconds(), summary.String())
	if p := os.Getenv("TEMPER_TEST_JUNIT"); p != "" {
		var b bytes.Buffer
		if err := testrun.WriteJUnit(&b, reports); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	services := 0
	for _, r := range reports {
		if r.Failed() > 0 {
			t.Errorf("%s (%s): %d failed", r.Image, r.Definition, r.Failed())
		}
		for _, o := range r.Tests {
			if o.Status == testrun.Skip && o.Kind != "hardening" {
				t.Errorf("%s: %s was skipped: %s", r.Image, o.Name, o.Message)
			}
			if o.Kind == "service" && o.Status == testrun.Pass {
				services++
			}
		}
	}
	for _, want := range []string{"postgresql", "mariadb", "redis", "nginx", "php-fpm", "memcached"} {
		found := false
		for _, r := range reports {
			found = found || strings.HasPrefix(r.Image, want+":") && r.Failed() == 0 && hasService(r)
		}
		if !found {
			t.Errorf("no %s image passed a service test", want)
		}
	}
	t.Logf("%d service tests passed", services)
}

func hasService(r *testrun.Report) bool {
	for _, o := range r.Tests {
		if o.Kind == "service" && o.Status == testrun.Pass {
			return true
		}
	}
	return false
}

// copyCatalog copies the catalog's definitions (not their locks) to dst,
// keeping the runtime directories, with architectures narrowed to arch.
func copyCatalog(t *testing.T, src, dst, arch string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".lock.yaml") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		lines := strings.Split(string(data), "\n")
		replaced := false
		for i, l := range lines {
			if strings.HasPrefix(l, "architectures:") {
				lines[i], replaced = "architectures: ["+arch+"]", true
			}
		}
		if !replaced {
			t.Errorf("%s: no one-line architectures: key", p)
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		out = append(out, to)
		return os.WriteFile(to, []byte(strings.Join(lines, "\n")), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// requirePodman skips the test without podman, and fails it in CI, where
// .ci/run installs it.
func requirePodman(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("podman is not installed; .ci/run installs it")
		}
		t.Skip("podman not installed")
	}
}

// liveContext ends 20 s before the test's deadline, so that a stuck
// build or container fails the test with its own error, not a timeout.
func liveContext(t *testing.T) context.Context {
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-20*time.Second))
		t.Cleanup(cancel)
	}
	return ctx
}

// liveCacheDir is the .deb cache the live tests share and keep between
// runs: $TEMPER_TEST_CACHE, else the user's temper cache.
func liveCacheDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("TEMPER_TEST_CACHE"); d != "" {
		return d
	}
	d, err := cache.DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	return d
}
