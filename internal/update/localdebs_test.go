package update_test

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/update"
)

// inhouseDeb builds the catalog's own package inhouse (source inhouse):
// it depends on the archive's libfoo1, ships the shared library soname and
// a changelog whose newest entry is ver's.
func inhouseDeb(t *testing.T, ver, soname, note string) []byte {
	t.Helper()
	cl := "inhouse (" + ver + ") bookworm; urgency=high\n\n  * " + note + "\n\n -- Team <team@example.org>  Mon, 05 Jan 2026 10:00:00 +0000\n\n" +
		"inhouse (1.0) bookworm; urgency=low\n\n  * First release.\n\n -- Team <team@example.org>  Mon, 01 Jan 2024 10:00:00 +0000\n"
	if ver == "1.0" {
		cl = "inhouse (1.0) bookworm; urgency=low\n\n  * First release. " + note + "\n\n -- Team <team@example.org>  Mon, 01 Jan 2024 10:00:00 +0000\n"
	}
	lib, major, _ := strings.Cut(soname, ".so.")
	return debtest.Build(t, debtest.Spec{
		Control: "Package: inhouse\nVersion: " + ver + "\nArchitecture: amd64\nMaintainer: T <t@example.org>\nDepends: libfoo1 (>= 1.0)\nDescription: in-house tool\n",
		Files: []debtest.File{
			{Path: "usr/lib/x86_64-linux-gnu/" + soname + ".0.0", Data: []byte("\x7fELF fake " + soname + " " + note)},
			{Path: "usr/lib/x86_64-linux-gnu/" + soname, Type: tar.TypeSymlink, Link: soname + ".0.0"},
			{Path: "usr/share/doc/inhouse/changelog.Debian.gz", Data: gz(t, cl)},
		},
		AutoDirs: true,
		Scripts:  map[string]string{"shlibs": lib + " " + major + " inhouse (>= " + ver + ")\n"},
	})
}

func (e *env) writeDeb(name string, data []byte) string {
	e.t.Helper()
	p := filepath.Join(e.dir, "debs", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		e.t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func inhouseDef(deb string) string {
	return "name: inhouse\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [inhouse]\nlocal_debs:\n  - debs/" + deb + "\n"
}

// lockedInhouse returns the lock's local_debs: pin and its inhouse package.
func lockedInhouse(t *testing.T, dir string) (spec.LockFile, spec.LockedPackage) {
	t.Helper()
	l, err := spec.LoadLock(filepath.Join(dir, "inhouse.lock.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.LocalDebs) != 1 {
		t.Fatalf("lock local_debs %+v", l.LocalDebs)
	}
	for _, p := range l.Architectures["amd64"].Packages {
		if p.Name == "inhouse" {
			return l.LocalDebs[0], p
		}
	}
	t.Fatal("no inhouse in the lock")
	return spec.LockFile{}, spec.LockedPackage{}
}

// TestCheckLocalDebs: temper check and update read a definition's
// local_debs: from the catalog directory. Unchanged: up to date on the
// fast path. The .deb rebuilt (same version, other bytes): a change
// (kind rebuilt, from local), the stream needs a re-lock, and update
// re-locks with the new file's SHA-256. A new .deb version named in the
// definition: an upgrade whose shared libraries and changelog are read
// from the two .debs in the catalog (a SONAME gone is an ABI risk; the
// changelog's CVE is reported), never asked of the mirror. An old .deb
// gone from the catalog: a note, not a failure.
func TestCheckLocalDebs(t *testing.T) {
	e := newEnv(t, suites(t))
	e.writeDeb("inhouse_1.0_amd64.deb", inhouseDeb(t, "1.0", "libinhouse.so.1", "v1"))
	e.write("inhouse.yaml", inhouseDef("inhouse_1.0_amd64.deb"))
	e.lock()

	img := image(t, e.check(), "inhouse.yaml")
	if img.Error != "" || img.Verdict != update.UpToDate || !img.Unchanged || len(img.Changes) != 0 {
		t.Fatalf("unchanged .deb: verdict %s unchanged=%v error %q changes %+v reasons %v", img.Verdict, img.Unchanged, img.Error, img.Changes, img.Reasons)
	}

	// Rebuilt with the same version: other bytes.
	sum := e.writeDeb("inhouse_1.0_amd64.deb", inhouseDeb(t, "1.0", "libinhouse.so.1", "v1 rebuilt"))
	rep := e.check()
	img = image(t, rep, "inhouse.yaml")
	if img.Error != "" || img.Verdict != update.Updates || rep.ExitStatus() != update.ExitUpdates {
		t.Fatalf("rebuilt .deb: verdict %s exit %d error %q reasons %v", img.Verdict, rep.ExitStatus(), img.Error, img.Reasons)
	}
	if len(img.Changes) != 1 || img.Changes[0].Kind != update.Rebuilt || img.Changes[0].Name != "inhouse" ||
		img.Changes[0].Old != "1.0" || img.Changes[0].New != "1.0" || img.Changes[0].Suite != spec.LocalRepository || img.Changes[0].ABIRisk != "" {
		t.Fatalf("rebuilt .deb: changes %+v", img.Changes)
	}
	if !strings.Contains(strings.Join(img.Reasons, "\n"), "local_debs: debs/inhouse_1.0_amd64.deb") {
		t.Errorf("reasons do not name the changed .deb: %v", img.Reasons)
	}
	if strings.Contains(strings.Join(img.Reasons, "\n"), "definition changed") {
		t.Errorf("the definition did not change: %v", img.Reasons)
	}
	applied, err := update.Apply(rep, update.ApplyOptions{})
	if err != nil || applied[0].Action != update.ActionWritten {
		t.Fatalf("apply: %v %+v", err, applied)
	}
	pin, p := lockedInhouse(t, e.dir)
	if pin.SHA256 != sum || p.SHA256 != sum {
		t.Fatalf("after update: lock pins %s / package %s, want %s", pin.SHA256, p.SHA256, sum)
	}
	if img := image(t, e.check(), "inhouse.yaml"); img.Verdict != update.UpToDate || !img.Unchanged {
		t.Fatalf("after update: verdict %s unchanged=%v %v", img.Verdict, img.Unchanged, img.Reasons)
	}

	// A new version beside the old one, its SONAME bumped.
	e.writeDeb("inhouse_1.1_amd64.deb", inhouseDeb(t, "1.1", "libinhouse.so.2", "Fix an overflow (CVE-2026-3333)."))
	e.write("inhouse.yaml", inhouseDef("inhouse_1.1_amd64.deb"))
	img = image(t, e.check(), "inhouse.yaml")
	if img.Error != "" || img.Verdict != update.Blocked || len(img.Changes) != 1 {
		t.Fatalf("new version: verdict %s error %q changes %+v reasons %v", img.Verdict, img.Error, img.Changes, img.Reasons)
	}
	ch := img.Changes[0]
	if ch.Kind != update.Upgraded || ch.Old != "1.0" || ch.New != "1.1" || !strings.Contains(ch.ABIRisk, "SONAME libinhouse.so.1") || ch.Note != "" {
		t.Errorf("new version: change %+v", ch)
	}
	if len(img.Sources) != 1 || img.Sources[0].Source != "inhouse" || len(img.Sources[0].CVEs) != 1 || img.Sources[0].CVEs[0] != "CVE-2026-3333" {
		t.Errorf("new version: sources %+v", img.Sources)
	}

	// The old .deb gone from the catalog: its libraries cannot be
	// compared; the check says so and still plans the upgrade.
	if err := os.Remove(filepath.Join(e.dir, "debs", "inhouse_1.0_amd64.deb")); err != nil {
		t.Fatal(err)
	}
	img = image(t, e.check(), "inhouse.yaml")
	if img.Error != "" || len(img.Changes) != 1 || !strings.Contains(img.Changes[0].Note, "no longer in the catalog") {
		t.Fatalf("old .deb gone: error %q changes %+v", img.Error, img.Changes)
	}
	applied, err = update.Apply(&update.Report{Images: []*update.Image{img}}, update.ApplyOptions{AllowABIChange: true})
	if err != nil || applied[0].Action != update.ActionWritten {
		t.Fatalf("apply: %v %+v", err, applied)
	}
	if pin, p := lockedInhouse(t, e.dir); pin.Src != "debs/inhouse_1.1_amd64.deb" || p.Version != "1.1" {
		t.Fatalf("after update: %+v %+v", pin, p)
	}

	// The package renamed in the catalog (Replaces: inhouse): the check
	// reads the local .deb's control as lock.Resolve does, and reports
	// one renamed change (an ABI risk), not a removal and an addition.
	e.writeDeb("inhouse-ng_2.0_amd64.deb", debtest.Build(t, debtest.Spec{
		Control:  "Package: inhouse-ng\nVersion: 2.0\nArchitecture: amd64\nMaintainer: T <t@example.org>\nReplaces: inhouse\nDepends: libfoo1\nDescription: in-house tool, next generation\n",
		Files:    []debtest.File{{Path: "usr/bin/inhouse-ng", Mode: 0o755, Data: []byte("ng")}},
		AutoDirs: true,
	}))
	e.write("inhouse.yaml", strings.Replace(inhouseDef("inhouse-ng_2.0_amd64.deb"), "packages: [inhouse]", "packages: [inhouse-ng]", 1))
	img = image(t, e.check(), "inhouse.yaml")
	if img.Error != "" || len(img.Changes) != 1 || img.Changes[0].Kind != update.Renamed || img.Changes[0].OldName != "inhouse" || img.Changes[0].Name != "inhouse-ng" {
		t.Fatalf("renamed: error %q changes %+v", img.Error, img.Changes)
	}
}

// TestCheckFilesChanged: a files: src: changed in the catalog moves no
// package, but the lock pins it: check says the stream needs a re-lock
// (verdict updates, the file named) and update writes the new lock.
func TestCheckFilesChanged(t *testing.T) {
	e := newEnv(t, suites(t))
	if err := os.MkdirAll(filepath.Join(e.dir, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.write("conf/app.ini", "a=1\n")
	e.write("app.yaml", appDef+"files:\n  - src: conf/app.ini\n    dest: /etc/app.ini\n")
	e.lock()
	if img := image(t, e.check(), "app.yaml"); img.Verdict != update.UpToDate || !img.Unchanged {
		t.Fatalf("unchanged: verdict %s unchanged=%v %v", img.Verdict, img.Unchanged, img.Reasons)
	}
	e.write("conf/app.ini", "a=2\n")
	rep := e.check()
	img := image(t, rep, "app.yaml")
	if img.Verdict != update.Updates || len(img.Changes) != 0 || !strings.Contains(strings.Join(img.Reasons, "\n"), "conf/app.ini") {
		t.Fatalf("changed file: verdict %s changes %+v reasons %v", img.Verdict, img.Changes, img.Reasons)
	}
	applied, err := update.Apply(rep, update.ApplyOptions{})
	if err != nil || applied[0].Action != update.ActionWritten {
		t.Fatalf("apply: %v %+v", err, applied)
	}
	if img := image(t, e.check(), "app.yaml"); img.Verdict != update.UpToDate || !img.Unchanged {
		t.Fatalf("after update: verdict %s unchanged=%v %v", img.Verdict, img.Unchanged, img.Reasons)
	}
}
