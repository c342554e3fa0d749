package update_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/debian/testarchive"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/update"
)

// variantSuites: the update fixture plus libfoo's headers (bound to the
// library's exact version, as Debian's -dev packages are) and a compiler.
func variantSuites(t *testing.T, security ...testarchive.Package) []testarchive.Suite {
	s := suites(t, security...)
	s[0].Packages = append(s[0].Packages,
		plain("libfoo-dev", "1.0-1", "Depends", "libfoo1 (= 1.0-1)", "Source", "foo"),
		plain("gcc", "12.2-1"))
	return s
}

const appDevDef = appDef + "variants:\n  dev:\n    packages: [libfoo-dev, gcc]\n    shell: true\n"

type streamLocks struct{ runtime, dev string }

func (e *env) streamLocks() streamLocks {
	return streamLocks{filepath.Join(e.dir, "app.lock.yaml"), filepath.Join(e.dir, "app.dev.lock.yaml")}
}

func readLock(t *testing.T, path string) *spec.Lock {
	t.Helper()
	l, err := spec.LoadLock(path)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func lockedVersion(l *spec.Lock, name string) string {
	for _, p := range l.Architectures["amd64"].Packages {
		if p.Name == name {
			return p.Version
		}
	}
	return ""
}

func changeNames(img *update.Image) []string {
	var out []string
	for _, ch := range img.Changes {
		out = append(out, ch.Name+" "+ch.Old+" → "+ch.New)
	}
	return out
}

// A security update of a package the runtime and its dev variant share:
// check reports both locks; update rewrites both in one go, and the
// variant still has the runtime's versions.
func TestVariantMovesWithTheRuntime(t *testing.T) {
	e := newEnv(t, variantSuites(t))
	e.write("app.yaml", appDevDef)
	e.lock()
	locks := e.streamLocks()

	// Unchanged archive: both locks are up to date from the InRelease files.
	e.srv.ResetHits()
	rep := e.check()
	img := image(t, rep, "app.yaml")
	if img.Verdict != update.UpToDate || !img.Unchanged || len(img.Variants) != 1 || img.Variants[0].Variant != "dev" ||
		img.Variants[0].Verdict != update.UpToDate || !img.Variants[0].Unchanged || img.Variants[0].Lock != locks.dev {
		t.Fatalf("before the update: %+v %+v", img, img.Variants)
	}
	for p := range e.srv.Hits() {
		if !strings.HasSuffix(p, "/InRelease") {
			t.Errorf("requested %s on an unchanged archive", p)
		}
	}

	e.publish(variantSuites(t,
		libfoo(t, "libfoo1", "1.0-1+deb12u1", []string{"libfoo.so.1"}, changelogNew),
		plain("libfoo-dev", "1.0-1+deb12u1", "Depends", "libfoo1 (= 1.0-1+deb12u1)", "Source", "foo")))
	rep = e.check()
	if rep.ExitStatus() != update.ExitUpdates {
		t.Errorf("exit status %d", rep.ExitStatus())
	}
	img = image(t, rep, "app.yaml")
	dev := img.Variants[0]
	if img.Verdict != update.Security || img.Unchanged || !slices.Equal(changeNames(img), []string{"libfoo1 1.0-1 → 1.0-1+deb12u1"}) {
		t.Fatalf("runtime: %+v", img)
	}
	if dev.Verdict != update.Security || dev.Counts.CVEs != 2 ||
		!slices.Equal(changeNames(dev), []string{"libfoo-dev 1.0-1 → 1.0-1+deb12u1", "libfoo1 1.0-1 → 1.0-1+deb12u1"}) {
		t.Fatalf("variant: %+v", dev)
	}
	var table bytes.Buffer
	update.WriteTable(&table, rep)
	if !strings.Contains(table.String(), "app.yaml [dev]") || !strings.Contains(table.String(), "libfoo-dev 1.0-1 → 1.0-1+deb12u1") {
		t.Errorf("table:\n%s", table.String())
	}

	applied, err := update.Apply(rep, update.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if applied[0].Action != update.ActionWritten || !slices.Equal(applied[0].Locks, []string{locks.runtime, locks.dev}) {
		t.Fatalf("applied %+v", applied[0])
	}
	rl, vl := readLock(t, locks.runtime), readLock(t, locks.dev)
	if lockedVersion(rl, "libfoo1") != "1.0-1+deb12u1" || lockedVersion(vl, "libfoo1") != "1.0-1+deb12u1" || lockedVersion(vl, "libfoo-dev") != "1.0-1+deb12u1" {
		t.Errorf("locks after the update: runtime libfoo1 %s, variant libfoo1 %s libfoo-dev %s",
			lockedVersion(rl, "libfoo1"), lockedVersion(vl, "libfoo1"), lockedVersion(vl, "libfoo-dev"))
	}
	if d := lock.SharedDiff(rl, vl); d != nil {
		t.Errorf("the variant no longer shares the runtime's versions: %v", d)
	}
	var msg bytes.Buffer
	update.WriteChangelog(&msg, img)
	for _, want := range []string{"update 2 package(s), fix 2 CVE(s) (security)", locks.dev, "libfoo-dev 1.0-1 → 1.0-1+deb12u1"} {
		if !strings.Contains(msg.String(), want) {
			t.Errorf("changelog lacks %q:\n%s", want, msg.String())
		}
	}
	if rep := e.check(); rep.ExitStatus() != update.ExitUpToDate {
		t.Errorf("after the update: %+v %+v", rep.Images[0], rep.Images[0].Variants[0])
	}
}

// The runtime's update would need a version of the shared library the
// variant's headers cannot follow (the -dev package is not rebuilt yet):
// the stream is blocked and neither lock moves, whatever the options.
func TestVariantRefusalHoldsTheStream(t *testing.T) {
	e := newEnv(t, variantSuites(t))
	e.write("app.yaml", appDevDef)
	e.lock()
	locks := e.streamLocks()
	rtBefore, _ := os.ReadFile(locks.runtime)
	devBefore, _ := os.ReadFile(locks.dev)

	e.publish(variantSuites(t, libfoo(t, "libfoo1", "1.0-1+deb12u1", []string{"libfoo.so.1"}, changelogNew)))
	rep := e.check()
	img := image(t, rep, "app.yaml")
	if img.Verdict != update.Blocked || img.Variants[0].Verdict != update.Blocked || rep.ExitStatus() != update.ExitUpdates {
		t.Fatalf("verdicts %s / %s", img.Verdict, img.Variants[0].Verdict)
	}
	if r := strings.Join(img.Reasons, "\n"); !strings.Contains(r, "variant dev: ") || !strings.Contains(r, "libfoo1") {
		t.Errorf("reasons %q", img.Reasons)
	}
	for _, allow := range []bool{false, true} {
		applied, err := update.Apply(rep, update.ApplyOptions{AllowABIChange: allow})
		if err != nil {
			t.Fatal(err)
		}
		if applied[0].Action != update.ActionSkipped || !strings.Contains(applied[0].Reason, "variant dev refused") {
			t.Errorf("allow %v: %+v", allow, applied[0])
		}
	}
	if after, _ := os.ReadFile(locks.runtime); !bytes.Equal(after, rtBefore) {
		t.Error("the runtime's lock moved without its variant")
	}
	if after, _ := os.ReadFile(locks.dev); !bytes.Equal(after, devBefore) {
		t.Error("the variant's lock was written")
	}
}

// An update of a package only the variant has: the runtime is up to date,
// the variant's lock alone is rewritten, still on the runtime's versions.
func TestVariantOnlyUpdate(t *testing.T) {
	e := newEnv(t, variantSuites(t))
	e.write("app.yaml", appDevDef)
	e.lock()
	locks := e.streamLocks()
	rtBefore, _ := os.ReadFile(locks.runtime)

	e.publish(variantSuites(t, plain("gcc", "12.2-1+deb12u1")))
	rep := e.check()
	img := image(t, rep, "app.yaml")
	if img.Verdict != update.Security || len(img.Changes) != 0 || !slices.Equal(changeNames(img.Variants[0]), []string{"gcc 12.2-1 → 12.2-1+deb12u1"}) {
		t.Fatalf("%+v %+v", img, img.Variants[0])
	}
	var table bytes.Buffer
	update.WriteTable(&table, rep)
	if !regexpLine(table.String(), `app.yaml +bookworm +up-to-date`) || !regexpLine(table.String(), `app.yaml \[dev\] +bookworm +security`) {
		t.Errorf("table:\n%s", table.String())
	}
	applied, err := update.Apply(rep, update.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if applied[0].Action != update.ActionWritten || !slices.Equal(applied[0].Locks, []string{locks.dev}) {
		t.Fatalf("applied %+v", applied[0])
	}
	if after, _ := os.ReadFile(locks.runtime); !bytes.Equal(after, rtBefore) {
		t.Error("the runtime's lock was rewritten")
	}
	rl, vl := readLock(t, locks.runtime), readLock(t, locks.dev)
	if lockedVersion(vl, "gcc") != "12.2-1+deb12u1" || lock.SharedDiff(rl, vl) != nil {
		t.Errorf("variant lock: gcc %s, shared %v", lockedVersion(vl, "gcc"), lock.SharedDiff(rl, vl))
	}
}

// A variant without a lock makes the stream not locked.
func TestVariantNotLocked(t *testing.T) {
	e := newEnv(t, variantSuites(t))
	e.write("app.yaml", appDevDef)
	e.lock()
	if err := os.Remove(e.streamLocks().dev); err != nil {
		t.Fatal(err)
	}
	img := image(t, e.check(), "app.yaml")
	if img.Verdict != update.NotLocked || img.Variants[0].Verdict != update.NotLocked || !strings.Contains(strings.Join(img.Reasons, ";"), "run temper lock") {
		t.Fatalf("%+v", img)
	}
}

func regexpLine(text, re string) bool {
	return regexp.MustCompile(`(?m)/` + re).MatchString(text)
}
