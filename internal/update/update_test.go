package update_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/klauspost/compress/gzip"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/debian/release"
	"github.com/temper-dev/temper/internal/debian/release/releasetest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/update"
)

// env is a fixture archive, a catalog directory and a shared cache.
type env struct {
	t     *testing.T
	key   *openpgp.Entity
	srv   *testarchive.Server
	cache *cache.Cache
	dir   string
	now   time.Time
}

func newEnv(t *testing.T, suites []testarchive.Suite) *env {
	e := &env{t: t, key: releasetest.NewKeyAt(t, "update fixture", "ed25519", testarchive.KeyCreation, 0), dir: t.TempDir(),
		now: testarchive.DefaultDate.Add(time.Hour)}
	a := &testarchive.Archive{Signers: []*openpgp.Entity{e.key}, Suites: suites}
	e.srv = testarchive.Serve(t, a.Files(t))
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e.cache = c
	return e
}

// publish replaces the archive's state (the server keeps serving old pool
// files, as a mirror does for a while).
func (e *env) publish(suites []testarchive.Suite) {
	a := &testarchive.Archive{Signers: []*openpgp.Entity{e.key}, Suites: suites}
	for p, data := range a.Files(e.t) {
		e.srv.SetFile(p, data)
	}
}

func (e *env) mirrors() archive.Mirrors {
	return archive.Mirrors{Archive: e.srv.ArchiveURL(), Security: e.srv.SecurityURL()}
}

func (e *env) client() *archive.Client {
	h := fetch.New("test")
	h.Backoff = time.Millisecond
	cl, err := archive.New(archive.Config{
		Mirrors: e.mirrors(), Cache: e.cache, HTTP: h, Keyring: release.NewKeyring(openpgp.EntityList{e.key}),
		Now: func() time.Time { return testarchive.DefaultDate.Add(time.Hour) },
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return cl
}

func (e *env) options() update.Options {
	h := fetch.New("test")
	h.Backoff = time.Millisecond
	return update.Options{
		Client: e.client(),
		Debs:   &pool.Fetcher{Mirrors: e.mirrors(), Cache: e.cache, HTTP: h},
		Cache:  e.cache,
		Now:    func() time.Time { return e.now },
	}
}

func (e *env) write(name, body string) {
	if err := os.WriteFile(filepath.Join(e.dir, name), []byte(body), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) lock() {
	e.t.Helper()
	outs, err := lock.Run(context.Background(), []string{e.dir}, lock.Options{Client: e.client()})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range outs {
		if o.Err != nil {
			e.t.Fatal(o.Err)
		}
	}
}

func (e *env) check() *update.Report {
	e.t.Helper()
	rep, err := update.Check(context.Background(), []string{e.dir}, e.options())
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

func image(t *testing.T, rep *update.Report, base string) *update.Image {
	t.Helper()
	for _, img := range rep.Images {
		if filepath.Base(img.Definition) == base {
			return img
		}
	}
	t.Fatalf("no image %s in the report", base)
	return nil
}

func gz(t *testing.T, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// libfoo builds libfoo1 (source foo): a shared library with a changelog.
func libfoo(t *testing.T, pkg, ver string, sonames []string, changelog string) testarchive.Package {
	files := []debtest.File{}
	for _, so := range sonames {
		files = append(files,
			debtest.File{Path: "usr/lib/x86_64-linux-gnu/" + so + ".0.0", Data: []byte("\x7fELF fake " + so)},
			debtest.File{Path: "usr/lib/x86_64-linux-gnu/" + so, Type: tar.TypeSymlink, Link: so + ".0.0"})
	}
	if changelog != "" {
		files = append(files, debtest.File{Path: "usr/share/doc/" + pkg + "/changelog.Debian.gz", Data: gz(t, changelog)})
	}
	var shlibs []string
	for _, so := range sonames {
		lib, major, _ := strings.Cut(so, ".so.")
		shlibs = append(shlibs, lib+" "+major+" "+pkg+" (>= "+ver+")")
	}
	deb := debtest.Build(t, debtest.Spec{
		Control:  "Package: " + pkg + "\nVersion: " + ver + "\nArchitecture: amd64\nSource: foo\nMaintainer: T <t@example.org>\nDescription: foo library\n",
		Files:    files,
		AutoDirs: true,
		Scripts:  map[string]string{"shlibs": strings.Join(shlibs, "\n") + "\n"},
	})
	return testarchive.Package{Name: pkg, Version: ver, Arch: "amd64", Fields: map[string]string{"Source": "foo"}, Deb: deb}
}

const changelogNew = `foo (1.0-1+deb12u1) bookworm-security; urgency=high

  * Non-maintainer upload by the Security Team.
  * Fix heap overflow in the parser (CVE-2026-1111).
  * Fix use-after-free in foo_free() (CVE-2026-22222, CVE-2026-1111).

 -- Security Team <team@security.example.org>  Mon, 05 Jan 2026 10:00:00 +0000

foo (1.0-1) unstable; urgency=medium

  * Initial release; an old issue (CVE-2020-0001) was fixed before.

 -- Maintainer <m@example.org>  Mon, 01 Jan 2024 10:00:00 +0000
`

const changelogOld = `foo (1.0-1) unstable; urgency=medium

  * Initial release; an old issue (CVE-2020-0001) was fixed before.

 -- Maintainer <m@example.org>  Mon, 01 Jan 2024 10:00:00 +0000
`

func plain(name, ver string, kv ...string) testarchive.Package {
	f := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	return testarchive.Package{Name: name, Version: ver, Arch: "amd64", Fields: f}
}

func suites(t *testing.T, security ...testarchive.Package) []testarchive.Suite {
	amd := []string{"amd64"}
	return []testarchive.Suite{
		{Name: "bookworm", Architectures: amd, Packages: []testarchive.Package{
			plain("app", "1.0-1", "Depends", "libfoo1 (>= 1.0)"),
			plain("other", "2.0-1"),
			libfoo(t, "libfoo1", "1.0-1", []string{"libfoo.so.1"}, changelogOld),
		}},
		{Name: "bookworm-updates", Architectures: amd},
		{Name: "bookworm-security", Archive: "debian-security", Architectures: amd, Packages: security},
	}
}

const appDef = "name: app\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [app]\n"
const otherDef = "name: other\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [other]\n"

// The security suite gains a new libfoo1 whose changelog names two CVEs:
// check reports them; update rewrites exactly the lock that uses it.
func TestSecurityUpdateCVEsAndUpdate(t *testing.T) {
	e := newEnv(t, suites(t))
	e.write("app.yaml", appDef)
	e.write("other.yaml", otherDef)
	e.lock()

	if rep := e.check(); rep.ExitStatus() != update.ExitUpToDate {
		t.Fatalf("before the update: exit %d, %+v", rep.ExitStatus(), rep.Images[0])
	}

	e.publish(suites(t, libfoo(t, "libfoo1", "1.0-1+deb12u1", []string{"libfoo.so.1"}, changelogNew)))
	rep := e.check()
	if rep.ExitStatus() != update.ExitUpdates {
		t.Errorf("exit status %d, want %d", rep.ExitStatus(), update.ExitUpdates)
	}
	// Through JSON, as automation sees it.
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Images []struct {
			Definition, Verdict string
			Changes             []struct {
				Kind, Name, Old_version, New_version, Suite string
				Security                                    bool
			}
			Sources []struct {
				Source, Urgency string
				CVEs            []string `json:"cves"`
			}
			Counts struct{ CVEs int }
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, img := range doc.Images {
		switch filepath.Base(img.Definition) {
		case "app.yaml":
			if img.Verdict != "security" || len(img.Changes) != 1 || img.Counts.CVEs != 2 {
				t.Fatalf("app: %s", data)
			}
			ch := img.Changes[0]
			if ch.Kind != "upgraded" || ch.Name != "libfoo1" || ch.Old_version != "1.0-1" || ch.New_version != "1.0-1+deb12u1" || ch.Suite != "bookworm-security" || !ch.Security {
				t.Errorf("change %+v", ch)
			}
			if len(img.Sources) != 1 || img.Sources[0].Source != "foo" || img.Sources[0].Urgency != "high" ||
				!slices.Equal(img.Sources[0].CVEs, []string{"CVE-2026-1111", "CVE-2026-22222"}) {
				t.Errorf("sources %+v", img.Sources)
			}
		case "other.yaml":
			if img.Verdict != "up-to-date" || len(img.Changes) != 0 {
				t.Errorf("other: %+v", img)
			}
		}
	}

	otherLock := filepath.Join(e.dir, "other.lock.yaml")
	appLock := filepath.Join(e.dir, "app.lock.yaml")
	otherBefore, _ := os.ReadFile(otherLock)
	otherSt, _ := os.Stat(otherLock)
	appBefore, _ := os.ReadFile(appLock)
	time.Sleep(20 * time.Millisecond)

	dry, err := update.Apply(rep, update.ApplyOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(appLock); !bytes.Equal(after, appBefore) {
		t.Fatal("dry run wrote the lock")
	}
	actions := map[string]string{}
	for _, a := range dry {
		actions[filepath.Base(a.Image.Definition)] = a.Action
	}
	if actions["app.yaml"] != "would write" || actions["other.yaml"] != "none" {
		t.Errorf("dry run actions %v", actions)
	}

	if _, err := update.Apply(rep, update.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	appAfter, _ := os.ReadFile(appLock)
	if bytes.Equal(appAfter, appBefore) || !strings.Contains(string(appAfter), "version: 1.0-1+deb12u1") {
		t.Errorf("app lock not updated:\n%s", appAfter)
	}
	otherAfter, _ := os.ReadFile(otherLock)
	otherSt2, _ := os.Stat(otherLock)
	if !bytes.Equal(otherAfter, otherBefore) || !otherSt2.ModTime().Equal(otherSt.ModTime()) {
		t.Error("the other lock was touched")
	}
	// The commit message names the versions and the CVEs.
	var msg bytes.Buffer
	update.WriteChangelog(&msg, image(t, rep, "app.yaml"))
	for _, want := range []string{"libfoo1 1.0-1 → 1.0-1+deb12u1 (bookworm-security)", "CVE-2026-1111, CVE-2026-22222", "fix 2 CVE(s)"} {
		if !strings.Contains(msg.String(), want) {
			t.Errorf("changelog lacks %q:\n%s", want, msg.String())
		}
	}
	// Now everything is up to date again.
	if rep := e.check(); rep.ExitStatus() != update.ExitUpToDate {
		t.Errorf("after update: exit %d: %+v", rep.ExitStatus(), image(t, rep, "app.yaml"))
	}
}

// A new version that stops shipping a SONAME is abi-risk; update skips it
// unless allowed.
func TestSONAMERemovalIsABIRisk(t *testing.T) {
	e := newEnv(t, suites(t))
	e.write("app.yaml", appDef)
	e.lock()
	e.publish(suites(t, libfoo(t, "libfoo1", "1.1-1+deb12u1", []string{"libfoo.so.2"}, strings.Replace(changelogNew, "1.0-1+deb12u1", "1.1-1+deb12u1", 1))))
	rep := e.check()
	img := image(t, rep, "app.yaml")
	if img.Verdict != update.Blocked || img.Counts.ABIRisk != 1 || !strings.Contains(img.Changes[0].ABIRisk, "libfoo.so.1") {
		t.Fatalf("image %+v", img)
	}
	lockPath := filepath.Join(e.dir, "app.lock.yaml")
	before, _ := os.ReadFile(lockPath)
	applied, err := update.Apply(rep, update.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if applied[0].Action != "skipped" {
		t.Errorf("action %+v", applied[0])
	}
	if after, _ := os.ReadFile(lockPath); !bytes.Equal(after, before) {
		t.Error("abi-risk update was applied")
	}
	if _, err := update.Apply(rep, update.ApplyOptions{AllowABIChange: true}); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(lockPath); !strings.Contains(string(after), "1.1-1+deb12u1") {
		t.Error("--allow-abi-change did not apply the update")
	}
}

// A library swapped for a renamed one (libfoo1 → libfoo1t64) is abi-risk.
func TestRenamedLibraryIsABIRisk(t *testing.T) {
	e := newEnv(t, suites(t))
	e.write("app.yaml", appDef)
	e.lock()
	t64 := libfoo(t, "libfoo1t64", "1.0-2+deb12u1", []string{"libfoo.so.1"}, "")
	t64.Fields["Replaces"] = "libfoo1"
	t64.Fields["Provides"] = "libfoo1 (= 1.0-2+deb12u1)"
	e.publish(suites(t, plain("app", "1.0-1+deb12u1", "Depends", "libfoo1t64 (>= 1.0)"), t64))
	img := image(t, e.check(), "app.yaml")
	var renamed *update.Change
	for i, ch := range img.Changes {
		if ch.Kind == update.Renamed {
			renamed = &img.Changes[i]
		}
	}
	if img.Verdict != update.Blocked || renamed == nil || renamed.OldName != "libfoo1" || renamed.Name != "libfoo1t64" || renamed.ABIRisk == "" {
		t.Fatalf("image %+v", img)
	}
}

// Unchanged InRelease: only the InRelease files are requested, no index
// and no .deb, and the image is up to date.
func TestUnchangedReadsNoIndex(t *testing.T) {
	e := newEnv(t, suites(t))
	e.write("app.yaml", appDef)
	e.write("other.yaml", otherDef)
	e.lock()
	e.srv.ResetHits()
	rep := e.check()
	for _, img := range rep.Images {
		if img.Verdict != update.UpToDate || !img.Unchanged {
			t.Errorf("%s: %+v", img.Definition, img)
		}
	}
	hits := e.srv.Hits()
	for p, n := range hits {
		if !strings.HasSuffix(p, "/InRelease") {
			t.Errorf("requested %s (%d times); only InRelease files should be", p, n)
		}
		if n != 1 {
			t.Errorf("%s requested %d times, want once per check", p, n)
		}
	}
	if len(hits) != 3 {
		t.Errorf("hits %v, want the 3 suites' InRelease", hits)
	}

	// A suite changed but nothing this catalog uses did: the first check
	// re-resolves (from the cached indices of the new state), the next one
	// remembers and reads no index again.
	e.publish(suites(t, plain("unrelated", "1.0")))
	if rep := e.check(); rep.ExitStatus() != update.ExitUpToDate {
		t.Fatalf("exit %d", rep.ExitStatus())
	}
	e.srv.ResetHits()
	rep = e.check()
	for _, img := range rep.Images {
		if !img.Unchanged {
			t.Errorf("%s was re-resolved on an archive state already checked", img.Definition)
		}
	}
	for p := range e.srv.Hits() {
		if !strings.HasSuffix(p, "/InRelease") {
			t.Errorf("requested %s", p)
		}
	}
}

// distro-info-data says the release's regular security support ended:
// every check says so, with the dates.
func TestEndOfLife(t *testing.T) {
	csv := "version,codename,series,created,release,eol,eol-lts,eol-elts\n" +
		"12,Bookworm,bookworm,2021-08-14,2023-06-10,2026-06-10,2028-06-30,2033-06-30\n" +
		"13,Trixie,trixie,2023-06-10,2025-08-09,,,\n"
	e := newEnv(t, suitesWithDistroInfo(t, csv))
	e.write("app.yaml", appDef)
	e.lock()

	e.now = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	img := image(t, e.check(), "app.yaml")
	if img.Verdict != update.UpToDate || img.EOL == nil || img.EOL.PastEOL || img.EOL.EOL != "2026-06-10" {
		t.Fatalf("before EOL: %+v %+v", img, img.EOL)
	}

	e.now = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	for range 2 { // on every check, also when the state is remembered
		e.srv.ResetHits()
		img = image(t, e.check(), "app.yaml")
		// Past regular support, LTS still publishes fixes: said loudly,
		// the verdict follows the updates.
		if img.Verdict != update.UpToDate || !img.EOL.PastEOL || img.EOL.PastLTS || img.EOL.EOLLTS != "2028-06-30" || img.EOL.EOLELTS != "2033-06-30" {
			t.Fatalf("after EOL: %+v %+v", img, img.EOL)
		}
		if len(img.Reasons) == 0 || !strings.Contains(img.Reasons[0], "2026-06-10") || !strings.Contains(img.Reasons[0], "END OF LIFE") {
			t.Errorf("reasons %q", img.Reasons)
		}
		if n := e.srv.TotalHits("/pool/") + e.srv.TotalHits("/binary-"); n != 0 {
			t.Errorf("%d index or .deb requests on an unchanged archive", n)
		}
	}
	// Past LTS the release is frozen: blocked.
	e.now = time.Date(2028, 7, 1, 0, 0, 0, 0, time.UTC)
	img = image(t, e.check(), "app.yaml")
	if img.Verdict != update.Blocked || !img.EOL.PastLTS || !strings.Contains(img.Reasons[0], "LTS ended on 2028-06-30") {
		t.Fatalf("past LTS: %+v", img)
	}
}

// When the upgraded package's doc directory is a symlink to another
// package's, the changelog is read from another binary of the same source.
func TestChangelogFromSiblingPackage(t *testing.T) {
	e := newEnv(t, suites(t))
	e.write("app.yaml", appDef)
	e.lock()
	lib := libfoo(t, "libfoo1", "1.0-1+deb12u1", []string{"libfoo.so.1"}, "")
	lib.Deb = debtest.Build(t, debtest.Spec{
		Control: "Package: libfoo1\nVersion: 1.0-1+deb12u1\nArchitecture: amd64\nSource: foo\nMaintainer: T <t@example.org>\nDescription: foo\n",
		Files: []debtest.File{
			{Path: "usr/lib/x86_64-linux-gnu/libfoo.so.1", Data: []byte("lib")},
			{Path: "usr/share/doc/libfoo1", Type: tar.TypeSymlink, Link: "foo-common"},
		},
		AutoDirs: true,
	})
	common := debtest.Build(t, debtest.Spec{
		Control:  "Package: foo-common\nVersion: 1.0-1+deb12u1\nArchitecture: all\nSource: foo\nMaintainer: T <t@example.org>\nDescription: foo\n",
		Files:    []debtest.File{{Path: "usr/share/doc/foo-common/changelog.Debian.gz", Data: gz(t, changelogNew)}},
		AutoDirs: true,
	})
	e.publish(suites(t, lib, testarchive.Package{Name: "foo-common", Version: "1.0-1+deb12u1", Arch: "all", Fields: map[string]string{"Source": "foo"}, Deb: common}))
	img := image(t, e.check(), "app.yaml")
	if len(img.Sources) != 1 || !slices.Equal(img.Sources[0].CVEs, []string{"CVE-2026-1111", "CVE-2026-22222"}) || !strings.HasPrefix(img.Sources[0].ChangelogFrom, "foo-common ") {
		t.Fatalf("sources %+v", img.Sources)
	}
}

func TestNotLocked(t *testing.T) {
	e := newEnv(t, suites(t))
	e.write("app.yaml", appDef)
	rep := e.check()
	if img := image(t, rep, "app.yaml"); img.Verdict != update.NotLocked || rep.ExitStatus() != update.ExitUpdates {
		t.Fatalf("%+v", img)
	}
}

// suitesWithDistroInfo are the fixture's suites with a distro-info-data
// package whose debian.csv is csv (the lifecycle data check reads).
func suitesWithDistroInfo(t *testing.T, csv string) []testarchive.Suite {
	t.Helper()
	did := debtest.Build(t, debtest.Spec{
		Control:  "Package: distro-info-data\nVersion: 0.58+deb12u5\nArchitecture: all\nMaintainer: T <t@example.org>\nDescription: data\n",
		Files:    []debtest.File{{Path: "usr/share/distro-info/debian.csv", Data: []byte(csv)}},
		AutoDirs: true,
	})
	s := suites(t)
	s[0].Packages = append(s[0].Packages, testarchive.Package{Name: "distro-info-data", Version: "0.58+deb12u5", Arch: "all", Deb: did})
	return s
}
