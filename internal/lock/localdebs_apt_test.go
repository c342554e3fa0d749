package lock_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/debian/repotest"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/resolve"
	"github.com/temper-dev/temper/internal/resolve/apttest"
	"github.com/temper-dev/temper/internal/spec"
)

// TestLocalDebsLockMatchesApt is the apt proof for local_debs: the .debs
// a definition names are, to apt, one more repository: their directory
// with a Packages file made by Debian's dpkg-scanpackages, read as
// "deb [trusted=yes] file:DIR ./" at apt's default priority 500. Beside the
// Debian fixture (and, in two cases, the reprepro PHP repository, pinned
// or not), the lock equals apt-get -s --no-install-recommends install with
// the same sources and preferences: names, versions and where each
// package comes from. The local .debs are chosen so that every rule shows:
// a local package newer than Debian's wins (zlib1g), an older one loses
// (libc6), a local library newer than the repository's beats the
// repository's default priority 100 (libzip4), and a .deb of another
// architecture is left out.
func TestLocalDebsLockMatchesApt(t *testing.T) {
	repotest.Require(t, "apt-get", "dpkg-scanpackages")
	f := repotest.NewFixture(t)
	ctx := context.Background()
	localDebs := map[string][]byte{
		"inhouse_1.0_amd64.deb": repotest.Deb(t, "inhouse", "1.0", "amd64", "Depends", "libssl3 (>= 3.0.0), zlib1g (>= 1:1.3), libzip4 (>= 1.7.0)"),
		"inhouse_1.0_arm64.deb": repotest.Deb(t, "inhouse", "1.0", "arm64", "Depends", "libfoo-arm64-only"),
		"zlib1g_1.3_amd64.deb":  repotest.Deb(t, "zlib1g", "1:1.3.dfsg-1+local1", "amd64", "Source", "zlib", "Depends", "libc6 (>= 2.14)"),
		"libc6_old_amd64.deb":   repotest.Deb(t, "libc6", "2.36-1+local1", "amd64", "Source", "glibc"),
		"libzip4_local.deb":     repotest.Deb(t, "libzip4", "1.11.2-1+local1", "amd64", "Source", "libzip", "Depends", "libc6 (>= 2.34)"),
	}
	var names []string
	for n := range localDebs {
		names = append(names, n)
	}
	sort.Strings(names)
	localBlock := "local_debs:\n"
	for _, n := range names {
		localBlock += "  - debs/" + n + "\n"
	}
	cases := []struct {
		name        string
		roots       []string
		repo        string // the repository entry, "" for none
		preferences string
		want        map[string]string // package -> "debian", "php" or "local"
	}{{
		name:  "local .debs beside Debian's",
		roots: []string{"inhouse"},
		want:  map[string]string{"inhouse": "local", "zlib1g": "local", "libc6": "debian", "libssl3": "debian", "libzip4": "local"},
	}, {
		name:  "local .debs with the PHP repository pinned",
		roots: []string{"inhouse", "php8.3-cli"},
		repo: phpRepo + `    pins:
      - packages: ["php8.3*"]
        priority: 990
    default_priority: 100
`,
		preferences: "Package: php8.3*\nPin: release o=TemperPHP\nPin-Priority: 990\n\nPackage: *\nPin: release o=TemperPHP\nPin-Priority: 100\n",
		want: map[string]string{"inhouse": "local", "zlib1g": "local", "libc6": "debian", "libssl3": "debian", "libzip4": "local",
			"php8.3-cli": "php", "php8.3-common": "php", "php-common": "debian"},
	}, {
		name:  "local .debs with the PHP repository unpinned",
		roots: []string{"inhouse", "php8.3-cli"},
		repo:  phpRepo,
		want: map[string]string{"inhouse": "local", "zlib1g": "local", "libc6": "debian", "libssl3": "php", "libzip4": "local",
			"php8.3-cli": "php", "php8.3-common": "php", "php-common": "php"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			debs := filepath.Join(dir, "debs")
			if err := os.MkdirAll(debs, 0o755); err != nil {
				t.Fatal(err)
			}
			for n, data := range localDebs {
				if err := os.WriteFile(filepath.Join(debs, n), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			def, err := spec.LoadDefinition(f.Definition(t, dir, c.roots, localBlock+c.repo))
			if err != nil {
				t.Fatal(err)
			}
			l, err := lock.Resolve(ctx, def, resolve.LoadOnce(f.Client(t)))
			if err != nil {
				t.Fatal(err)
			}
			// The repository apt reads: the same directory of .debs.
			sources := []apttest.Source{{URI: repotest.LocalRepo(t, debs), Suite: "./", Trusted: true}}
			if c.repo != "" {
				sources = append(sources, apttest.Source{URI: f.URL, Suite: "bookworm", Components: []string{"main"}, SignedBy: f.Key.Binary})
			}
			env, err := apttest.NewWith(ctx, t.TempDir(), apttest.Options{
				Archive: f.Debian.ArchiveURL(), Security: f.Debian.SecurityURL(), Release: "bookworm", Arch: "amd64",
				Keyring: f.DebianKeyring, Sources: sources, Preferences: c.preferences,
			})
			if err != nil {
				t.Fatal(err)
			}
			apt, err := env.Install(ctx, c.roots...)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]spec.LockedPackage{}
			for _, p := range l.Architectures["amd64"].Packages {
				got[p.Name] = p
			}
			var diffs []string
			for name, in := range apt {
				p, ok := got[name]
				aptFrom := aptOrigin(in.Suites)
				ourFrom := "debian"
				if p.Repository != "" {
					ourFrom = p.Repository
				}
				switch {
				case !ok:
					diffs = append(diffs, "only apt: "+name+" "+in.Version)
				case p.Version != in.Version || ourFrom != aptFrom:
					diffs = append(diffs, name+": apt "+in.Version+" from "+aptFrom+" ("+in.Suites+"), temper "+p.Version+" from "+ourFrom)
				}
				if c.want[name] != aptFrom {
					diffs = append(diffs, name+": the test expects it from "+c.want[name]+", apt takes it from "+aptFrom+" ("+in.Suites+")")
				}
			}
			for name := range got {
				if _, ok := apt[name]; !ok {
					diffs = append(diffs, "only temper: "+name)
				}
			}
			if len(apt) != len(c.want) {
				diffs = append(diffs, "apt installs a different set than the test expects")
			}
			sort.Strings(diffs)
			if len(diffs) > 0 {
				t.Fatalf("temper's lock and apt differ:\n  %s", strings.Join(diffs, "\n  "))
			}
			// Local packages are pinned by the .deb's own SHA-256.
			pinned := map[string]string{}
			for _, lf := range l.LocalDebs {
				pinned[lf.Src] = lf.SHA256
			}
			for _, p := range got {
				if p.Repository == spec.LocalRepository && (pinned[p.Filename] == "" || pinned[p.Filename] != p.SHA256) {
					t.Errorf("%s: filename %s sha256 %s not the local_debs: pin %q", p.Name, p.Filename, p.SHA256, pinned[p.Filename])
				}
			}
			t.Logf("%d packages, identical to apt: %v", len(apt), c.want)
		})
	}
}

// aptOrigin names where apt-get -s says a package comes from: the PHP
// repository (its Origin), the local file: repository (no Release: apt
// labels it "localhost") or Debian's suites.
func aptOrigin(suites string) string {
	switch {
	case strings.Contains(suites, repotest.Origin):
		return "php"
	case suites == "localhost":
		return "local"
	}
	return "debian"
}
