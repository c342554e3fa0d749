package update_test

import (
	"context"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/debian/repotest"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/update"
)

// TestCheckSeesRepositoryRelease: temper check watches a designated
// repository's InRelease like Debian's suites. Nothing published: the fast
// path answers from the InRelease digests alone. A new php8.3 published into
// the reprepro repository: check re-resolves and plans the upgrade, taken
// from the repository.
func TestCheckSeesRepositoryRelease(t *testing.T) {
	f := repotest.NewFixture(t)
	ctx := context.Background()
	dir := t.TempDir()
	def := f.Definition(t, dir, []string{"php8.3-cli"}, `repositories:
  - name: php
    url: {{URL}}
    suites: [bookworm]
    key: keys/php.asc
    fingerprint: "{{FP}}"
    pins:
      - packages: ["php8.3*"]
        priority: 990
    default_priority: 100
`)
	outs, err := lock.Run(ctx, []string{def}, lock.Options{Client: f.Client(t)})
	if err != nil || outs[0].Err != nil {
		t.Fatalf("lock: %v %v", err, outs[0].Err)
	}
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := fetch.New("test")
	h.Backoff = time.Millisecond
	check := func() *update.Image {
		t.Helper()
		opt := update.Options{Client: f.Client(t), Cache: c, Debs: &pool.Fetcher{Mirrors: f.Debian.Mirrors(), Cache: c, HTTP: h}}
		rep, err := update.Check(ctx, []string{dir}, opt)
		if err != nil {
			t.Fatal(err)
		}
		img := rep.Images[0]
		if img.Error != "" {
			t.Fatalf("check: %s", img.Error)
		}
		return img
	}
	img := check()
	if !img.Unchanged || img.Verdict != update.UpToDate {
		t.Fatalf("nothing published: want the fast path and up-to-date, got unchanged=%v verdict=%s %v", img.Unchanged, img.Verdict, img.Changes)
	}

	f.Repo.Include(t,
		repotest.Deb(t, "php8.3-cli", "8.3.11-1+repo1", "amd64", "Source", "php8.3",
			"Depends", "libc6 (>= 2.36), libssl3 (>= 3.0.0), php8.3-common (= 8.3.11-1+repo1), libzip4 (>= 1.7.0), zlib1g (>= 1:1.1.4)"),
		repotest.Deb(t, "php8.3-common", "8.3.11-1+repo1", "all", "Source", "php8.3", "Depends", "php-common"),
	)
	img = check()
	if img.Unchanged || img.Verdict != update.Updates {
		t.Fatalf("php8.3 8.3.11 published: want updates, got unchanged=%v verdict=%s reasons=%v", img.Unchanged, img.Verdict, img.Reasons)
	}
	got := map[string]string{}
	for _, ch := range img.Changes {
		got[ch.Name] = ch.Old + " -> " + ch.New
	}
	want := map[string]string{"php8.3-cli": "8.3.10-1+repo1 -> 8.3.11-1+repo1", "php8.3-common": "8.3.10-1+repo1 -> 8.3.11-1+repo1"}
	if len(got) != len(want) || got["php8.3-cli"] != want["php8.3-cli"] || got["php8.3-common"] != want["php8.3-common"] {
		t.Errorf("changes %v, want %v", got, want)
	}
	if _, err := update.Apply(&update.Report{Images: []*update.Image{img}}, update.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if img := check(); !img.Unchanged || img.Verdict != update.UpToDate {
		t.Errorf("after update: want up-to-date on the fast path, got unchanged=%v verdict=%s", img.Unchanged, img.Verdict)
	}
}
