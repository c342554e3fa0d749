package lock_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/release/releasetest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/spec"
)

// variantFixture: libssl3 and its headers at two versions (the release and
// a security update), a compiler, and an app linked against libssl3.
func variantFixture(t *testing.T) *fixture {
	key := releasetest.NewKeyAt(t, "variant fixture", "ed25519", testarchive.KeyCreation, 0)
	pk := func(name, ver string, kv ...string) testarchive.Package {
		f := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			f[kv[i]] = kv[i+1]
		}
		return testarchive.Package{Name: name, Version: ver, Arch: "amd64", Fields: f}
	}
	a := &testarchive.Archive{Signers: []*openpgp.Entity{key}, Suites: []testarchive.Suite{
		{Name: "bookworm", Packages: []testarchive.Package{
			pk("libc6", "2.36-9"),
			pk("libssl3", "3.0.11-1", "Depends", "libc6", "Source", "openssl"),
			pk("libssl-dev", "3.0.11-1", "Depends", "libssl3 (= 3.0.11-1)", "Source", "openssl"),
			pk("app", "1.0", "Depends", "libssl3 (>= 3.0.0), libc6"),
			pk("gcc", "12.2-1", "Depends", "libc6 (>= 2.36)"),
			pk("bash", "5.2-2", "Depends", "libc6"),
		}},
		{Name: "bookworm-updates"},
		{Name: "bookworm-security", Archive: "debian-security", Packages: []testarchive.Package{
			pk("libssl3", "3.0.15-1", "Depends", "libc6", "Source", "openssl"),
			pk("libssl-dev", "3.0.15-1", "Depends", "libssl3 (= 3.0.15-1)", "Source", "openssl"),
		}},
	}}
	f := &fixture{key: key, srv: testarchive.Serve(t, a.Files(t)), dir: t.TempDir()}
	cacheDir := t.TempDir()
	f.client = func() *archive.Client { return f.srv.Client(t, cacheDir, key) }
	return f
}

const appDef = `name: app
version: "1"
debian: {release: bookworm}
architectures: [amd64]
packages: [app]
`

func runAll(t *testing.T, f *fixture) []lock.Outcome {
	t.Helper()
	outs, err := lock.Run(context.Background(), []string{f.dir}, lock.Options{Client: f.client()})
	if err != nil {
		t.Fatal(err)
	}
	return outs
}

func TestVariantLockSharesTheRuntimesVersions(t *testing.T) {
	f := variantFixture(t)
	def := f.write(t, "app.yaml", appDef+"variants:\n  dev:\n    packages: [libssl-dev, gcc]\n    shell: true\n")
	outs := runAll(t, f)
	if len(outs) != 2 || outs[0].Variant != "" || outs[1].Variant != "dev" {
		t.Fatalf("outcomes: %+v", outs)
	}
	for _, o := range outs {
		if o.Err != nil || !o.Changed {
			t.Fatalf("%s: %v", o.LockPath, o.Err)
		}
	}
	if outs[1].LockPath != filepath.Join(f.dir, "app.dev.lock.yaml") {
		t.Errorf("variant lock path %s", outs[1].LockPath)
	}
	runtime, err := spec.LoadLock(filepath.Join(f.dir, "app.lock.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := spec.LoadDefinition(def)
	vls, err := lock.LoadVariantLocks(d)
	if err != nil {
		t.Fatal(err)
	}
	dev := vls["dev"]
	names := func(l *spec.Lock) string {
		var s []string
		for _, p := range l.Architectures["amd64"].Packages {
			s = append(s, p.Name+"="+p.Version)
		}
		return strings.Join(s, " ")
	}
	if got := names(runtime); got != "app=1.0 libc6=2.36-9 libssl3=3.0.15-1" {
		t.Errorf("runtime: %s", got)
	}
	if got := names(dev); got != "app=1.0 gcc=12.2-1 libc6=2.36-9 libssl-dev=3.0.15-1 libssl3=3.0.15-1" {
		t.Errorf("dev: %s", got)
	}
	if diff := lock.SharedDiff(runtime, dev); diff != nil {
		t.Errorf("shared packages differ: %v", diff)
	}
	if !dev.Matches(d) {
		t.Errorf("the variant's lock records the definition file")
	}
	// A second run changes nothing.
	for _, o := range runAll(t, f) {
		if o.Err != nil || o.Changed {
			t.Errorf("%s rewritten: %v", o.LockPath, o.Err)
		}
	}
}

func TestVariantRefusedWhenItNeedsOtherVersions(t *testing.T) {
	f := variantFixture(t)
	// The runtime holds libssl3 at the release's version; the headers of
	// the security update need the update's libssl3.
	f.write(t, "app.yaml", strings.Replace(appDef, "packages: [app]", `packages: [app, "libssl3=3.0.11-1"]`, 1)+
		"variants:\n  dev:\n    packages: [libssl-dev, gcc]\n")
	outs := runAll(t, f)
	if len(outs) != 2 || outs[1].Err == nil {
		t.Fatalf("outcomes: %+v", outs)
	}
	msg := outs[1].Err.Error()
	for _, want := range []string{"variant dev: refused", "libssl3", "libssl-dev", "pinned to 3.0.11-1", "same ABI"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	// Together or not at all: the runtime's lock is not written either.
	if outs[0].Err == nil || !strings.Contains(outs[0].Err.Error(), "not written") {
		t.Errorf("runtime outcome: %v", outs[0].Err)
	}
	for _, n := range []string{"app.lock.yaml", "app.dev.lock.yaml"} {
		if _, err := os.Stat(filepath.Join(f.dir, n)); err == nil {
			t.Errorf("%s written", n)
		}
	}

	// A variant pinning a shared package to another version itself.
	f2 := variantFixture(t)
	f2.write(t, "app.yaml", appDef+"variants:\n  dev:\n    packages: [\"libssl3=3.0.11-1\", gcc]\n")
	outs = runAll(t, f2)
	if outs[1].Err == nil {
		t.Fatalf("pinned shared package accepted")
	}
	want := "variant dev: refused: its packages need other versions of 1 package than the runtime's (same ABI: every package shared with the runtime keeps the runtime's version):\n  libssl3 (amd64): runtime 3.0.15-1, variant needs 3.0.11-1 (required by app, definition)"
	if !strings.Contains(outs[1].Err.Error(), want) {
		t.Errorf("got:\n%v\nwant:\n%s", outs[1].Err, want)
	}
}

// TestCatalogVariants: every variant in examples/catalog has a lock made
// from the definition as it is, whose closure contains the runtime's whole
// closure at identical versions and .debs.
func TestCatalogVariants(t *testing.T) {
	files, err := spec.FindDefinitions([]string{"../../examples/catalog"})
	if err != nil {
		t.Fatal(err)
	}
	pairs := 0
	for _, f := range files {
		def, err := spec.LoadDefinition(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(def.Variants) == 0 {
			continue
		}
		runtime, err := spec.LoadLock(def.LockPath())
		if err != nil {
			t.Fatal(err)
		}
		vls, err := lock.LoadVariantLocks(def)
		if err != nil {
			t.Fatal(err)
		}
		for name, vl := range vls {
			pairs++
			vd, _ := def.ForVariant(name)
			if !vl.Matches(vd) || !runtime.Matches(def) {
				t.Errorf("%s %s: lock out of date; run temper lock", f, name)
			}
			if d := lock.SharedDiff(runtime, vl); d != nil {
				t.Errorf("%s: %v", f, d)
			}
			for arch, ra := range runtime.Architectures {
				have := map[string]bool{}
				for _, p := range vl.Architectures[arch].Packages {
					have[p.Name] = true
				}
				for _, p := range ra.Packages {
					if !have[p.Name] {
						t.Errorf("%s %s (%s): the runtime's %s is missing", f, name, arch, p.Name)
					}
				}
			}
		}
	}
	if pairs < 16 {
		t.Errorf("%d runtime/variant pairs in the catalog, want at least 16 (python, nodejs, ruby, php, perl, openjdk, postgresql, mariadb on two releases)", pairs)
	}
}
