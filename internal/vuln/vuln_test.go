package vuln

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/spec"
)

func loadFixture(t *testing.T) *DB {
	t.Helper()
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	db, err := Load(c, Files{Tracker: "testdata/tracker.json", KEV: "testdata/kev.json"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func pkg(name, ver, arch, src, srcVer string) spec.LockedPackage {
	return spec.LockedPackage{Name: name, Version: ver, Architecture: arch, Source: src, SourceVersion: srcVer}
}

// testLock is a bookworm lock with source != binary names, a binNMU, an
// epoch and a glibc old enough to be in KEV.
func testLock(release string) *spec.Lock {
	pk := []spec.LockedPackage{
		pkg("libssl3", "3.0.22-1~deb12u2", "amd64", "openssl", "3.0.22-1~deb12u2"),
		pkg("openssl", "3.0.22-1~deb12u2", "amd64", "openssl", "3.0.22-1~deb12u2"),
		pkg("libgcc-s1", "12.2.0-14+deb12u1", "amd64", "gcc-12", "12.2.0-14+deb12u1"),
		pkg("libc6", "2.36-9+deb12u1", "amd64", "glibc", "2.36-9+deb12u1"),
		pkg("libcap2", "1:2.66-4+deb12u3+b1", "amd64", "libcap2", "1:2.66-4+deb12u3"),
		pkg("libcap2-bin", "1:2.66-4+deb12u3+b1", "amd64", "libcap2", ""), // index gave no source version
		pkg("zlib1g", "1:1.2.13.dfsg-1", "amd64", "zlib", "1:1.2.13.dfsg-1"),
		pkg("tzdata", "2025b-0+deb12u2", "all", "tzdata", "2025b-0+deb12u2"),
	}
	arm := []spec.LockedPackage{pkg("libssl3", "3.0.22-1~deb12u2", "arm64", "openssl", "3.0.22-1~deb12u2")}
	return &spec.Lock{Release: release, Architectures: map[string]*spec.LockArch{"amd64": {Packages: pk}, "arm64": {Packages: arm}}}
}

func byID(fs []Finding) map[string]Finding {
	m := map[string]Finding{}
	for _, f := range fs {
		m[f.ID] = f
	}
	return m
}

// TestScanTable covers every row of the matching table on one lock.
func TestScanTable(t *testing.T) {
	img := Scan("base/12-bookworm.yaml", testLock("bookworm"), loadFixture(t))
	got := byID(img.Findings)
	verdicts := byID(img.Verdicts)
	want := map[string]Status{
		"CVE-2025-9230":       Fixable,      // resolved, 3.0.22 < 3.0.23
		"CVE-2025-9231":       Fixable,      // resolved, high
		"CVE-2023-4039":       NoDSA,        // gcc-12 via libgcc-s1
		"CVE-2022-27943":      Unimportant,  // open, unimportant
		"CVE-2023-4911":       Fixable,      // glibc deb12u1 < deb12u3, and in KEV
		"CVE-2010-4756":       Unimportant,  // open, unimportant
		"CVE-2025-4802":       Postponed,    // nodsa_reason postponed
		"CVE-2019-1010022":    Ignored,      // nodsa_reason ignored
		"CVE-2026-0861":       Open,         // open, otherwise
		"CVE-2026-0915":       Undetermined, // undetermined
		"CVE-2025-1390":       Fixable,      // epoch: 1:2.66-4+deb12u3 < 1:2.66-4+deb12u4
		"CVE-2023-45853":      Fixable,      // epoch: 1:1.2.13.dfsg-1 < 1:1.2.13.dfsg-3
		"TEMP-0000000-A1B2C3": EndOfLife,    // open, end-of-life, TEMP id
	}
	for id, st := range want {
		if got[id].Status != st {
			t.Errorf("%s: status %q, want %q", id, got[id].Status, st)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d findings, want %d: %v", len(got), len(want), got)
	}
	wantV := map[string]Status{
		"CVE-2023-0464":  Fixed,       // 3.0.22 >= 3.0.8-1
		"CVE-2014-0160":  NotAffected, // fixed_version "0"
		"CVE-2023-2603":  Fixed,       // 1:2.66-4+deb12u3 >= 1:2.66-4
		"CVE-2022-37434": Fixed,       // epoch 1 > epoch 0 of "1.3"
	}
	for id, st := range wantV {
		if verdicts[id].Status != st {
			t.Errorf("%s: verdict %q, want %q", id, verdicts[id].Status, st)
		}
	}
	ssl := got["CVE-2025-9230"]
	if !reflect.DeepEqual(ssl.Packages, []string{"libssl3", "openssl"}) || ssl.Source != "openssl" || len(ssl.Binaries) != 3 {
		t.Errorf("openssl finding: packages %v, source %q, %d binaries; want libssl3+openssl from openssl, both arches", ssl.Packages, ssl.Source, len(ssl.Binaries))
	}
	if ssl.Urgency != "medium" || !ssl.UrgencyFromNVD || ssl.FixedVersion != "3.0.23-1~deb12u1" {
		t.Errorf("openssl finding: urgency %q nvd %v fixed %q", ssl.Urgency, ssl.UrgencyFromNVD, ssl.FixedVersion)
	}
	if g := got["CVE-2023-4039"]; g.Comment != "Minor issue" || !reflect.DeepEqual(g.Packages, []string{"libgcc-s1"}) {
		t.Errorf("gcc-12 finding: comment %q packages %v", g.Comment, g.Packages)
	}
	if k := got["CVE-2023-4911"].KEV; k == nil || k.DateAdded != "2023-11-21" || k.DueDate != "2023-12-12" || k.Ransomware != "Unknown" {
		t.Errorf("glibc KEV: %+v", k)
	}
	if got["CVE-2025-9230"].KEV != nil {
		t.Error("CVE-2025-9230 is not in KEV")
	}
	if c := got["CVE-2025-1390"]; c.SourceVersion != "1:2.66-4+deb12u3" || !reflect.DeepEqual(c.Packages, []string{"libcap2", "libcap2-bin"}) {
		t.Errorf("binNMU: source version %q packages %v, want 1:2.66-4+deb12u3 for libcap2 and libcap2-bin", c.SourceVersion, c.Packages)
	}
	if !reflect.DeepEqual(img.Architectures, []string{"amd64", "arm64"}) {
		t.Errorf("architectures %v", img.Architectures)
	}
}

// TestScanRelease: one tracker file, two releases, different statuses.
func TestScanRelease(t *testing.T) {
	db := loadFixture(t)
	bw := byID(Scan("d", testLock("bookworm"), db).Findings)
	tx := byID(Scan("d", testLock("trixie"), db).Findings)
	if bw["CVE-2025-9230"].Status != Fixable || tx["CVE-2025-9230"].Status != NoDSA {
		t.Errorf("CVE-2025-9230: bookworm %q trixie %q, want fixable and no-dsa", bw["CVE-2025-9230"].Status, tx["CVE-2025-9230"].Status)
	}
	if _, ok := tx["CVE-2026-0861"]; ok {
		t.Error("a bookworm-only record matched trixie")
	}
}

func TestStripBinNMU(t *testing.T) {
	for in, want := range map[string]string{"1.2-3+b1": "1.2-3", "1:2.66-4+deb12u3+b12": "1:2.66-4+deb12u3", "1.2+build": "1.2+build", "1.2-3+b": "1.2-3+b", "2.0+bx1": "2.0+bx1"} {
		if got := stripBinNMU(in); got != want {
			t.Errorf("stripBinNMU(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIndexRoundTrip(t *testing.T) {
	data, err := os.ReadFile("testdata/tracker.json")
	if err != nil {
		t.Fatal(err)
	}
	ix, err := ParseTrackerBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ix.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalIndex(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ix, back) {
		t.Error("index changed through MarshalBinary/UnmarshalIndex")
	}
	if _, err := UnmarshalIndex(raw[:len(raw)-3]); err == nil {
		t.Error("a truncated index decoded")
	}
	if ix.Len() != 20 {
		t.Errorf("%d records, want 20", ix.Len())
	}
}

func TestParseTrackerRejects(t *testing.T) {
	for _, bad := range []string{`[]`, `{"openssl": {"CVE-1": {"releases": 3}}}`, `{"a": {}} x`, `{"a": {}`} {
		if _, err := ParseTrackerBytes([]byte(bad)); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}

func TestParseTrackerEscapes(t *testing.T) {
	ix, err := ParseTrackerBytes([]byte(` { "a\\\"b" : {"CVE-1": {"description": "braces } { and \\\" quotes ]", "releases": {"sid": {"status": "open", "urgency": "low"}}}}, "c": {} } `))
	if err != nil {
		t.Fatal(err)
	}
	if got := ix.Records("sid", `a\"b`); len(got) != 1 || got[0].Description != `braces } { and \" quotes ]` {
		t.Errorf("records %v", got)
	}
}

// TestIndexFormat: the encoding is deterministic; an index of format 1
// (or any other blob) under the cache ref is refused, never misread, and
// the index is rebuilt from the JSON and cached again.
func TestIndexFormat(t *testing.T) {
	data, err := os.ReadFile("testdata/tracker.json")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := ParseTrackerBytes(data)
	b, _ := ParseTrackerBytes(data)
	ra, _ := a.MarshalBinary()
	rb, _ := b.MarshalBinary()
	if !bytes.Equal(ra, rb) {
		t.Error("two encodings of the same export differ")
	}
	old := append([]byte("temper-vuln-index/1\n"), ra[len(indexMagic):]...)
	if _, err := UnmarshalIndex(old); err == nil || !strings.Contains(err.Error(), "temper-vuln-index/2") {
		t.Errorf("a format-1 index decoded: %v", err)
	}
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := sum(data)
	if err := c.PutRef(indexRef(s), old); err != nil {
		t.Fatal(err)
	}
	ix, err := TrackerIndex(c, data, s)
	if err != nil || !reflect.DeepEqual(ix, a) {
		t.Fatalf("rebuilt index differs: %v", err)
	}
	if raw, _ := c.GetRef(indexRef(s)); !bytes.Equal(raw, ra) {
		t.Error("the rebuilt index was not cached in place of the old one")
	}
}
