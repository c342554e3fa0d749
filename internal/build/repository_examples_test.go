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

// TestRepositoryExamples locks and builds each example of
// examples/catalog-repositories (kept out of examples/catalog: their
// repositories are not reachable here) against a reprepro repository,
// with the example's URL, key and fingerprint replaced by the fixture's:
// the packages the pins name come from the repository, the rest from
// Debian, and the image holds them.
func TestRepositoryExamples(t *testing.T) {
	f := buildtest.NewRepoFixture(t,
		buildtest.RepoDeb(t, "php8.3-cli", "8.3.10-1+repo1", "libc6, php8.3-common (= 8.3.10-1+repo1)", debtest.File{Path: "./usr/bin/php8.3", Mode: 0o755, Data: []byte("php 8.3")}),
		buildtest.RepoDeb(t, "php8.3-common", "8.3.10-1+repo1", "", debtest.File{Path: "./usr/share/php8.3-common/common", Data: []byte("common")}),
		// Newer than Debian's: the example's default_priority 100 keeps Debian's.
		buildtest.RepoDeb(t, "libc6", "2.99-1+repo1", "", debtest.File{Path: "./lib/x86_64-linux-gnu/libc.so.6", Mode: 0o755, Data: []byte("not Debian's libc")}),
		buildtest.RepoDeb(t, "team-tools", "1.4-1", "libc6", debtest.File{Path: "./usr/bin/team-tools", Mode: 0o755, Data: []byte("team tools")}),
	)
	f.Repo.WriteFlat(t, "flat", "amd64")
	key, err := os.ReadFile(f.RepoKey.Armored)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		example, url, keyFile, ref string
		from                       map[string]string // package -> repository ("" for Debian)
		file, content              string
	}{
		{"php/8.3-bookworm.yaml", "http://php-repository.invalid/php", "keys/php.asc", "php:8.3",
			map[string]string{"php8.3-cli": "php", "php8.3-common": "php", "libc6": ""},
			"etc/php/8.3/cli/conf.d/90-temper.ini", "expose_php = Off\nmemory_limit = 256M\n"},
		{"team/tools-bookworm.yaml", "http://packages.team.invalid", "keys/team.asc", "team-tools:1",
			// No pins: apt's 500 for both, the higher version wins, as apt does.
			map[string]string{"team-tools": "team", "libc6": "team"},
			"usr/bin/team-tools", "team tools"},
	} {
		t.Run(c.example, func(t *testing.T) {
			src := filepath.Join("../../examples/catalog-repositories", c.example)
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.NewReplacer(c.url, f.URL, `"0000000000000000000000000000000000000000"`, `"`+f.RepoKey.Fingerprint+`"`).Replace(string(data))
			if text == string(data) || !strings.Contains(text, f.URL) {
				t.Fatalf("%s: placeholders not found", c.example)
			}
			dir := t.TempDir()
			def := buildtest.WriteDef(t, dir, filepath.Base(c.example), text)
			os.MkdirAll(filepath.Join(dir, "keys"), 0o755)
			os.WriteFile(filepath.Join(dir, c.keyFile), key, 0o644)
			if conf, err := os.ReadFile(filepath.Join(filepath.Dir(src), "conf", "php.ini")); err == nil {
				os.MkdirAll(filepath.Join(dir, "conf"), 0o755)
				os.WriteFile(filepath.Join(dir, "conf", "php.ini"), conf, 0o644)
			}
			cacheDir := t.TempDir()
			ctx := context.Background()
			if outs, err := lock.Run(ctx, []string{def}, lock.Options{Client: f.Client(cacheDir)}); err != nil || outs[0].Err != nil {
				t.Fatalf("lock: %v %+v", err, outs)
			}
			l, err := spec.LoadLock(spec.LockPath(def))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range l.Architectures["amd64"].Packages {
				got[p.Name] = p.Repository
			}
			for name, repo := range c.from {
				if r, ok := got[name]; !ok || r != repo {
					t.Errorf("%s from %q (in lock: %v), want %q", name, r, ok, repo)
				}
			}
			out := filepath.Join(dir, "out")
			if _, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(cacheDir), Output: out}); err != nil {
				t.Fatal(err)
			}
			if got := imageFiles(t, out, c.ref)[c.file]; got != c.content {
				t.Errorf("%s: %q, want %q", c.file, got, c.content)
			}
		})
	}
}
