package vuln

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestNotCovered: packages from a designated repository are never matched
// against Debian's tracker (whose versions are not theirs) and never
// reported clean: they are listed as not covered, in the report and its
// JSON. Debian's packages of the same source are still matched.
func TestNotCovered(t *testing.T) {
	db := loadFixture(t)
	l := testLock("bookworm")
	for _, a := range l.Architectures {
		for i, p := range a.Packages {
			switch p.Name {
			case "libssl3": // a newer openssl than any fix: Debian's data would call it fixed
				a.Packages[i] = pkg("libssl3", "3.3.1-1+repo1", p.Architecture, "openssl", "3.3.1-1+repo1")
				a.Packages[i].Repository = "php"
			case "zlib1g": // older than Debian's fix: Debian's data would call it fixable
				a.Packages[i] = pkg("zlib1g", "1:1.2.11-1+repo1", p.Architecture, "zlib", "1:1.2.11-1+repo1")
				a.Packages[i].Repository = "php"
			}
		}
	}
	img := Scan("php/8.3-bookworm.yaml", l, db)
	want := []NotCovered{
		{Source: "openssl", SourceVersion: "3.3.1-1+repo1", Packages: []string{"libssl3"}, Repository: "php", Status: NotCoveredStatus,
			Reason: "not covered by Debian's security data (from designated repository php)"},
		{Source: "zlib", SourceVersion: "1:1.2.11-1+repo1", Packages: []string{"zlib1g"}, Repository: "php", Status: NotCoveredStatus,
			Reason: "not covered by Debian's security data (from designated repository php)"},
	}
	if !reflect.DeepEqual(img.NotCovered, want) {
		t.Errorf("not covered:\n got %+v\nwant %+v", img.NotCovered, want)
	}
	for _, f := range append(img.Findings, img.Verdicts...) {
		if f.Source == "zlib" || (f.Source == "openssl" && f.SourceVersion != "3.0.22-1~deb12u2") {
			t.Errorf("repository package matched against Debian's data: %s %s %s %s", f.ID, f.Source, f.SourceVersion, f.Status)
		}
		if f.Source == "openssl" && !reflect.DeepEqual(f.Packages, []string{"openssl"}) {
			t.Errorf("%s: packages %v, want Debian's openssl only", f.ID, f.Packages)
		}
	}
	if got := byID(img.Findings); got["CVE-2025-9230"].Status != Fixable || got["CVE-2023-45853"].Status != "" {
		t.Errorf("Debian's openssl still fixable, repository zlib not matched: %q %q", got["CVE-2025-9230"].Status, got["CVE-2023-45853"].Status)
	}
	data, err := json.Marshal(img)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"not_covered":[{"source":"openssl","source_version":"3.3.1-1+repo1","packages":["libssl3"],"repository":"php","status":"not-covered","reason":"not covered by Debian's security data (from designated repository php)"}`) {
		t.Errorf("JSON: %s", data)
	}
	// A lock with Debian's packages only: no list, the JSON unchanged.
	plain := Scan("base/12-bookworm.yaml", testLock("bookworm"), db)
	data, _ = json.Marshal(plain)
	if plain.NotCovered != nil || strings.Contains(string(data), "not_covered") {
		t.Errorf("Debian-only lock: not covered %v", plain.NotCovered)
	}
}
