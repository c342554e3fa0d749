package update_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/temper-dev/temper/internal/about"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/livetest"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/update"
)

// TestLiveCheck locks two example definitions against the real archive (the
// mirror in this machine's apt sources) and checks them: it asserts that
// the check runs and its JSON is valid, not what it finds.
func TestLiveCheck(t *testing.T) {
	mirrors := livetest.Mirrors(t)
	cacheDir := livetest.CacheDir(t)
	dir := t.TempDir()
	defs := map[string]string{
		"python-bookworm.yaml": "name: python\nversion: \"3.11\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [python3]\n",
		"nginx-trixie.yaml":    "name: nginx\nversion: \"1\"\ndebian:\n  release: trixie\narchitectures: [amd64]\npackages: [nginx]\n",
	}
	for name, body := range defs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	outs, err := lock.Run(ctx, []string{dir}, lock.Options{Client: livetest.Client(t, cacheDir, false)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
	}
	c, err := cache.Open(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := update.Check(ctx, []string{dir}, update.Options{
		Client: livetest.Client(t, cacheDir, false),
		Debs:   &pool.Fetcher{Mirrors: mirrors, Cache: c, HTTP: fetch.New(about.UserAgent() + " (test)")},
		Cache:  c,
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil || len(rep.Images) != 2 {
		t.Fatalf("%v: %s", err, data)
	}
	for _, img := range rep.Images {
		if img.Verdict == update.Failed {
			t.Errorf("%s: %s", img.Definition, img.Error)
		}
		t.Logf("%s: %s (eol %+v)", img.Definition, img.Verdict, img.EOL)
	}
}

// TestLiveCheckCatalog checks the committed example catalog against the
// real archive: it must run and produce valid JSON for every definition;
// what it finds (the committed locks age as Debian moves) is not asserted.
func TestLiveCheckCatalog(t *testing.T) {
	mirrors := livetest.Mirrors(t)
	cacheDir := livetest.CacheDir(t)
	c, err := cache.Open(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	_, file, _, _ := runtime.Caller(0)
	catalog := filepath.Join(filepath.Dir(file), "..", "..", "examples", "catalog")
	rep, err := update.Check(context.Background(), []string{catalog}, update.Options{
		Client: livetest.Client(t, cacheDir, false),
		Debs:   &pool.Fetcher{Mirrors: mirrors, Cache: c, HTTP: fetch.New(about.UserAgent() + " (test)")},
		Cache:  c,
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Images []struct{ Definition, Verdict string }
	}
	if err := json.Unmarshal(data, &doc); err != nil || len(doc.Images) < 24 {
		t.Fatalf("%v: %d images", err, len(doc.Images))
	}
	for _, img := range rep.Images {
		if img.Verdict == update.Failed {
			t.Errorf("%s: %s", img.Definition, img.Error)
		}
	}
	t.Logf("checked %d catalog definitions", len(rep.Images))
}
