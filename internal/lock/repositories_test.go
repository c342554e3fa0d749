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

const phpRepo = `repositories:
  - name: php
    url: {{URL}}
    suites: [bookworm]
    components: [main]
    key: keys/php.asc
    fingerprint: "{{FP}}"
`

// TestRepositoryLockMatchesApt is the proof for designated repositories: a
// repository made by reprepro from real .debs and signed by a gpg key made
// here, beside a Debian fixture; for each set of pins, temper's lock equals
// what apt-get -s --no-install-recommends install does with the same
// sources, Signed-By per source and the same pins written as an apt
// preferences file: package for package, version for version, and each
// package from the same place.
func TestRepositoryLockMatchesApt(t *testing.T) {
	repotest.Require(t, "apt-get")
	f := repotest.NewFixture(t)
	ctx := context.Background()
	cases := []struct {
		name        string
		block       string // appended to the repository entry
		flat        bool
		preferences string
		want        map[string]string // package -> "debian" or "php": where it must come from
	}{{
		name: "php8.3 pinned, the rest Debian's",
		block: `    pins:
      - packages: ["php8.3*"]
        priority: 990
    default_priority: 100
`,
		preferences: "Package: php8.3*\nPin: release o=TemperPHP\nPin-Priority: 990\n\nPackage: *\nPin: release o=TemperPHP\nPin-Priority: 100\n",
		want:        map[string]string{"php8.3-cli": "php", "php8.3-common": "php", "libzip4": "php", "libssl3": "debian", "php-common": "debian", "libc6": "debian", "zlib1g": "debian"},
	}, {
		name:        "no pins: apt's default 500, the highest version wins",
		preferences: "",
		want:        map[string]string{"php8.3-cli": "php", "php8.3-common": "php", "libzip4": "php", "libssl3": "php", "php-common": "php", "libc6": "debian", "zlib1g": "debian"},
	}, {
		name: "a negative pin keeps Debian's libssl3",
		block: `    pins:
      - packages: [libssl3]
        priority: -1
`,
		preferences: "Package: libssl3\nPin: release o=TemperPHP\nPin-Priority: -1\n",
		want:        map[string]string{"php8.3-cli": "php", "php8.3-common": "php", "libzip4": "php", "libssl3": "debian", "php-common": "php", "libc6": "debian", "zlib1g": "debian"},
	}, {
		name: "flat repository (no dists, no Acquire-By-Hash)",
		flat: true,
		block: `    pins:
      - packages: ["/^php8\\.3-.*/"]
        priority: 990
    default_priority: 100
`,
		preferences: "Package: /^php8\\.3-.*/\nPin: release o=TemperPHP-flat\nPin-Priority: 990\n\nPackage: *\nPin: release o=TemperPHP-flat\nPin-Priority: 100\n",
		want:        map[string]string{"php8.3-cli": "php", "php8.3-common": "php", "libzip4": "php", "libssl3": "debian", "php-common": "debian", "libc6": "debian", "zlib1g": "debian"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			block := phpRepo + c.block
			src := apttest.Source{URI: f.URL, Suite: "bookworm", Components: []string{"main"}, SignedBy: f.Key.Binary}
			if c.flat {
				block = strings.Replace(strings.Replace(block, "suites: [bookworm]", `suites: ["{{FLAT}}"]`, 1), "    components: [main]\n", "", 1)
				src = apttest.Source{URI: f.URL, Suite: f.FlatDir, SignedBy: f.Key.Binary}
			}
			def, err := spec.LoadDefinition(f.Definition(t, t.TempDir(), []string{"php8.3-cli"}, block))
			if err != nil {
				t.Fatal(err)
			}
			l, err := lock.Resolve(ctx, def, resolve.LoadOnce(f.Client(t)))
			if err != nil {
				t.Fatal(err)
			}
			env, err := apttest.NewWith(ctx, t.TempDir(), apttest.Options{
				Archive: f.Debian.ArchiveURL(), Security: f.Debian.SecurityURL(), Release: "bookworm", Arch: "amd64",
				Keyring: f.DebianKeyring, Sources: []apttest.Source{src}, Preferences: c.preferences,
			})
			if err != nil {
				t.Fatal(err)
			}
			apt, err := env.Install(ctx, "php8.3-cli")
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
				aptFrom := "debian"
				if strings.Contains(in.Suites, repotest.Origin) {
					aptFrom = "php"
				}
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
					diffs = append(diffs, name+": the test expects it from "+c.want[name]+", apt takes it from "+aptFrom)
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
			// The lock records the repository suite, its key and digest.
			if len(l.Repositories) != 1 || l.Repositories[0].Fingerprint != f.Key.Fingerprint || l.Repositories[0].URL != f.URL {
				t.Errorf("lock repositories = %+v", l.Repositories)
			}
			data, err := l.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			back, err := spec.ParseLock("php.lock.yaml", data)
			if err != nil {
				t.Fatalf("the lock does not parse back: %v\n%s", err, data)
			}
			if again, _ := back.Marshal(); string(again) != string(data) {
				t.Errorf("lock text changes on a round trip")
			}
			t.Logf("%d packages, identical to apt: %v", len(apt), c.want)
		})
	}
}

// TestRepositoryKeysAndPinsRefused: a key that does not verify the
// repository (another key, or Debian's), a key file whose fingerprint is not
// the pinned one, an unpinned fingerprint, and a pin naming a package the
// repository lacks all fail, naming the file, line and the fix.
func TestRepositoryKeysAndPinsRefused(t *testing.T) {
	f := repotest.NewFixture(t)
	ctx := context.Background()
	other := repotest.NewKey(t, "Someone else <else@example.org>")
	resolveDef := func(t *testing.T, block string, keyFile []byte) error {
		t.Helper()
		dir := t.TempDir()
		p := f.Definition(t, dir, []string{"php8.3-cli"}, block)
		if keyFile != nil {
			if err := os.WriteFile(filepath.Join(dir, "keys", "php.asc"), keyFile, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		def, err := spec.LoadDefinition(p)
		if err != nil {
			return err
		}
		_, err = lock.Resolve(ctx, def, resolve.LoadOnce(f.Client(t)))
		return err
	}
	otherKey, _ := os.ReadFile(other.Armored)
	debianKey, _ := os.ReadFile(f.DebianKeyring)
	debianFP := strings.ToUpper(strings.TrimSpace(hexFP(f.DebianKey.PrimaryKey.Fingerprint)))
	for _, c := range []struct {
		name  string
		block string
		key   []byte
		want  []string
	}{
		{"another key, pinned", strings.Replace(phpRepo, "{{FP}}", other.Fingerprint, 1), otherKey,
			[]string{"repository php", "InRelease"}},
		{"Debian's key for the repository", strings.Replace(phpRepo, "{{FP}}", debianFP, 1), debianKey,
			[]string{"repository php", "InRelease"}},
		{"key file not the pinned fingerprint", phpRepo, otherKey,
			[]string{"php.yaml:", "repositories[0].key", "does not match the pinned fingerprint " + f.Key.Fingerprint}},
		{"unpinned fingerprint", strings.Replace(phpRepo, "    fingerprint: \"{{FP}}\"\n", "", 1), nil,
			[]string{"php.yaml:", "repositories[0]", "fingerprint"}},
		{"pinned package missing from its repository", phpRepo + "    pins:\n      - packages: [php8.3-cli, php8.3-nosuch]\n        priority: 990\n", nil,
			[]string{"php.yaml:15:", "repositories[0].pins[0].packages", `"php8.3-nosuch" not in php`, "php8.3-cli"}},
		{"glob matching nothing in its repository", phpRepo + "    pins:\n      - packages: [\"php9*\"]\n        priority: 990\n", nil,
			[]string{"repositories[0].pins[0].packages", `"php9*" not in php`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := resolveDef(t, c.block, c.key)
			if err == nil {
				t.Fatal("resolved; want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			t.Logf("%v", err)
		})
	}
}

func hexFP(b []byte) string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
