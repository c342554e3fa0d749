package lock_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/release/releasetest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/resolve"
	"github.com/temper-dev/temper/internal/spec"
)

type fixture struct {
	key    *openpgp.Entity
	srv    *testarchive.Server
	client func() *archive.Client
	dir    string
}

func newFixture(t *testing.T) *fixture {
	key := releasetest.NewKeyAt(t, "lock fixture", "ed25519", testarchive.KeyCreation, 0)
	pk := func(name, ver, arch string, kv ...string) testarchive.Package {
		f := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			f[kv[i]] = kv[i+1]
		}
		return testarchive.Package{Name: name, Version: ver, Arch: arch, Fields: f}
	}
	a := &testarchive.Archive{Signers: []*openpgp.Entity{key}, Suites: []testarchive.Suite{
		{Name: "bookworm", Packages: []testarchive.Package{
			pk("python3", "3.11.2-1+b1", "amd64", "Depends", "libc6 (>= 2.36), tzdata", "Source", "python3-defaults (3.11.2-1)"),
			pk("python3", "3.11.2-1+b1", "arm64", "Depends", "libc6 (>= 2.36), tzdata", "Source", "python3-defaults (3.11.2-1)"),
			pk("libc6", "2.36-9+deb12u1", "amd64"),
			pk("libc6", "2.36-9+deb12u1", "arm64"),
			pk("tzdata", "2025b-0+deb12u1", "all"),
			pk("amd64only", "1.0", "amd64"),
		}},
		{Name: "bookworm-updates"},
		{Name: "bookworm-security", Archive: "debian-security", Packages: []testarchive.Package{
			pk("libc6", "2.36-9+deb12u10", "amd64", "Source", "glibc"),
			pk("libc6", "2.36-9+deb12u10", "arm64", "Source", "glibc"),
		}},
	}}
	f := &fixture{key: key, srv: testarchive.Serve(t, a.Files(t)), dir: t.TempDir()}
	cacheDir := t.TempDir()
	f.client = func() *archive.Client { return f.srv.Client(t, cacheDir, key) }
	return f
}

// resign returns the suite's Release re-signed with a later Date.
func (f *fixture) resign(t *testing.T, suite string) []byte {
	base := "/debian/dists/"
	if strings.HasSuffix(suite, "-security") {
		base = "/debian-security/dists/"
	}
	rel := string(f.srv.File(base + suite + "/Release"))
	rel = strings.Replace(rel, "Date: "+testarchive.DefaultDate.Format(time.RFC1123), "Date: "+testarchive.DefaultDate.Add(30*time.Minute).Format(time.RFC1123), 1)
	return releasetest.ClearSignAt(t, testarchive.DefaultDate.Add(30*time.Minute), []byte(rel), f.key)
}

func (f *fixture) write(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) run(t *testing.T) map[string]lock.Outcome {
	t.Helper()
	outs, err := lock.Run(context.Background(), []string{f.dir}, lock.Options{Client: f.client()})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]lock.Outcome{}
	for _, o := range outs {
		m[filepath.Base(o.Definition)] = o
	}
	return m
}

const pythonDef = `name: python
version: "3.11"
debian:
  release: bookworm
architectures: [amd64, arm64]
packages: [python3]
`

func TestLockWritesAndIsStable(t *testing.T) {
	f := newFixture(t)
	f.write(t, "python-3.11.yaml", pythonDef)
	f.write(t, "other.yaml", strings.Replace(pythonDef, "name: python", "name: other", 1))
	os.MkdirAll(filepath.Join(f.dir, "sub"), 0o755)
	f.write(t, "sub/third.yaml", strings.Replace(pythonDef, "name: python", "name: third", 1))
	f.write(t, "temper.yaml", "archive: http://example.invalid/debian\n") // configuration, not a definition

	outs := f.run(t)
	if len(outs) != 3 {
		t.Fatalf("outcomes: %v", outs)
	}
	o := outs["python-3.11.yaml"]
	if o.Err != nil || !o.Changed || o.Packages["amd64"] != 3 || o.Packages["arm64"] != 3 {
		t.Fatalf("outcome %+v", o)
	}
	data, err := os.ReadFile(filepath.Join(f.dir, "python-3.11.lock.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := spec.ParseLock("python-3.11.lock.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Suites) != 3 || l.Suites[2].Name != "bookworm-security" || l.Definition.File != "python-3.11.yaml" {
		t.Errorf("lock header %+v", l)
	}
	var libc spec.LockedPackage
	for _, p := range l.Architectures["arm64"].Packages {
		if p.Name == "libc6" {
			libc = p
		}
	}
	if libc.Version != "2.36-9+deb12u10" || libc.Suite != "bookworm-security" || libc.Source != "glibc" || len(libc.SHA256) != 64 ||
		!strings.HasPrefix(libc.Filename, "pool/") || strings.Join(libc.RequiredBy, ",") != "python3" {
		t.Errorf("libc6 entry %+v", libc)
	}
	// One index load per release and architecture, however many definitions.
	for _, arch := range []string{"amd64", "arm64"} {
		if n := f.srv.TotalHits("/debian/dists/bookworm/main/binary-" + arch + "/"); n != 1 {
			t.Errorf("bookworm %s index fetched %d times", arch, n)
		}
	}
	// Nothing changed: byte-identical, not rewritten.
	st1, _ := os.Stat(filepath.Join(f.dir, "python-3.11.lock.yaml"))
	time.Sleep(10 * time.Millisecond)
	outs = f.run(t)
	if o := outs["python-3.11.yaml"]; o.Err != nil || o.Changed {
		t.Errorf("second run: %+v", o)
	}
	st2, _ := os.Stat(filepath.Join(f.dir, "python-3.11.lock.yaml"))
	if !st1.ModTime().Equal(st2.ModTime()) {
		t.Error("an unchanged lock was rewritten")
	}
	again, _ := os.ReadFile(filepath.Join(f.dir, "python-3.11.lock.yaml"))
	if string(again) != string(data) {
		t.Error("lock bytes changed")
	}
	// The security suite is re-signed with a new Date but the same
	// packages: the lock stays byte-identical (no churn of image digests).
	ir := "/debian-security/dists/bookworm-security/InRelease"
	old := f.srv.File(ir)
	resigned := f.resign(t, "bookworm-security")
	if string(resigned) == string(old) {
		t.Fatal("fixture did not change the InRelease")
	}
	f.srv.SetFile(ir, resigned)
	if o := f.run(t)["python-3.11.yaml"]; o.Err != nil || o.Changed {
		t.Errorf("after a re-signed suite: %+v", o)
	}
	if after, _ := os.ReadFile(filepath.Join(f.dir, "python-3.11.lock.yaml")); string(after) != string(data) {
		t.Error("a re-signed suite with the same packages changed the lock")
	}
}

func TestLockErrorsKeepPreviousLock(t *testing.T) {
	f := newFixture(t)
	def := f.write(t, "python-3.11.yaml", pythonDef)
	if o := f.run(t)["python-3.11.yaml"]; o.Err != nil {
		t.Fatal(o.Err)
	}
	lockPath := spec.LockPath(def)
	before, _ := os.ReadFile(lockPath)

	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"invalid definition", strings.Replace(pythonDef, "release:", "relase:", 1), []string{"python-3.11.yaml:4:3", "relase"}},
		{"unknown package", strings.Replace(pythonDef, "[python3]", "[pyhton3]", 1), []string{"pyhton3", "bookworm", "did you mean: python3"}},
		{"missing on one architecture", strings.Replace(pythonDef, "[python3]", "[python3, amd64only]", 1), []string{"amd64only", "arm64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.write(t, "python-3.11.yaml", tc.body)
			o := f.run(t)["python-3.11.yaml"]
			if o.Err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(o.Err.Error(), w) {
					t.Errorf("error %q lacks %q", o.Err, w)
				}
			}
			after, _ := os.ReadFile(lockPath)
			if string(after) != string(before) {
				t.Error("the previous lock was changed")
			}
			entries, _ := os.ReadDir(f.dir)
			for _, e := range entries {
				if n := e.Name(); n != "python-3.11.yaml" && n != "python-3.11.lock.yaml" {
					t.Errorf("unexpected file left: %s", n)
				}
			}
		})
	}
}

// Resolve asks its Releases for the definition's release once per
// architecture, and an archive that fails stops it with that error.
func TestResolveAsksReleases(t *testing.T) {
	f := newFixture(t)
	def, err := spec.ParseDefinition("python-3.11.yaml", []byte(pythonDef))
	if err != nil {
		t.Fatal(err)
	}
	client := f.client()
	var asked []string
	rels := resolve.ReleasesFunc(func(ctx context.Context, release string, comps []string, arch string) (*resolve.Universe, error) {
		asked = append(asked, release+"/"+strings.Join(comps, ",")+"/"+arch)
		rel, err := client.LoadReleaseComponents(ctx, release, arch, comps)
		if err != nil {
			return nil, err
		}
		return resolve.NewUniverse(rel), nil
	})
	l, err := lock.Resolve(context.Background(), def, rels)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(asked, " "); got != "bookworm/main/amd64 bookworm/main/arm64" {
		t.Errorf("asked for %s", got)
	}
	if n := len(l.Architectures["arm64"].Packages); n != 3 {
		t.Errorf("arm64 closure has %d packages, want 3", n)
	}
	boom := errors.New("InRelease: bad signature")
	failing := resolve.ReleasesFunc(func(context.Context, string, []string, string) (*resolve.Universe, error) { return nil, boom })
	if _, err := lock.Resolve(context.Background(), def, failing); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the archive's %v", err, boom)
	}
}
