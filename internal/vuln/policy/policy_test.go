package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/vuln"
)

func finding(id, src string, st vuln.Status, urgency string, kev bool) vuln.Finding {
	f := vuln.Finding{ID: id, Source: src, SourceVersion: "1", Packages: []string{src}, Status: st, Urgency: urgency, FixedVersion: "2"}
	if kev {
		f.KEV = &vuln.KEV{DateAdded: "2023-11-21"}
	}
	return f
}

func img() *vuln.Image {
	return &vuln.Image{Definition: "base/12-bookworm.yaml", Release: "bookworm", Findings: []vuln.Finding{
		finding("CVE-2023-4911", "glibc", vuln.Fixable, "low", true),
		finding("CVE-2025-1390", "libcap2", vuln.Fixable, "high", false),
		finding("CVE-2023-45853", "zlib", vuln.Fixable, "high", false),
		finding("CVE-2025-9230", "openssl", vuln.Fixable, "medium", false),
		finding("CVE-2010-4756", "glibc", vuln.Unimportant, "unimportant", false),
		finding("TEMP-0000000-A1B2C3", "tzdata", vuln.EndOfLife, "end-of-life", false),
	}}
}

func rules(g Gate) map[string]string {
	m := map[string]string{}
	for _, v := range g.Violations {
		m[v.ID] = v.Rule
	}
	return m
}

func TestEvaluateDefaultsAndExceptions(t *testing.T) {
	exc, err := LoadExceptions("testdata/exceptions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	g := Evaluate(Input{Image: img(), Exceptions: exc, Now: now})
	want := map[string]string{"CVE-2023-4911": "kev", "CVE-2023-45853": "fixable"}
	got := rules(g)
	if len(got) != len(want) || got["CVE-2023-4911"] != "kev" || got["CVE-2023-45853"] != "fixable" || g.Passed {
		t.Fatalf("violations %v, want %v", got, want)
	}
	// CVE-2025-1390 waived; CVE-2023-45853's exception expired 2026-01-31.
	var applied, expired int
	for _, d := range g.Exceptions {
		if d.Expired {
			expired++
			if d.ID != "CVE-2023-45853" {
				t.Errorf("expired: %s", d.ID)
			}
		} else {
			applied++
		}
	}
	if applied != 1 || expired != 1 {
		t.Errorf("%d applied, %d expired exceptions", applied, expired)
	}
	for _, v := range g.Violations {
		if v.ID == "CVE-2023-45853" && !strings.Contains(v.Message, "expired 2026-01-31") {
			t.Errorf("violation does not say the exception expired: %s", v.Message)
		}
	}
	// The last day of an exception still counts.
	if g := Evaluate(Input{Image: img(), Exceptions: exc, Now: time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC)}); rules(g)["CVE-2023-45853"] != "" {
		t.Error("exception not applied on its expiry day")
	}
}

func TestPolicyOverrides(t *testing.T) {
	off := false
	p := &Policy{Fixable: "medium", Unimportant: true, Definitions: map[string]Policy{
		"base/*": {KEV: &off, Fixable: "none", EndOfLife: true},
	}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	got := rules(Evaluate(Input{Image: img(), Policy: p.For("base/12-bookworm.yaml"), Now: time.Now()}))
	if len(got) != 2 || got["CVE-2010-4756"] != "unimportant" || got["TEMP-0000000-A1B2C3"] != "end-of-life" {
		t.Errorf("override: %v", got)
	}
	got = rules(Evaluate(Input{Image: img(), Policy: p.For("nginx/12-bookworm.yaml"), Now: time.Now()}))
	if got["CVE-2025-9230"] != "fixable" || got["CVE-2023-4911"] != "kev" || got["TEMP-0000000-A1B2C3"] != "" {
		t.Errorf("catalog-wide: %v", got)
	}
	if err := (&Policy{Fixable: "severe"}).Validate(); err == nil {
		t.Error("unknown urgency accepted")
	}
}

func TestOpenAge(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	im := &vuln.Image{Findings: []vuln.Finding{finding("CVE-1", "x", vuln.Open, "high", false), finding("CVE-2", "x", vuln.Open, "high", false)}}
	seen := func(id string) (time.Time, bool) {
		if id == "CVE-1" {
			return now.AddDate(0, 0, -40), true
		}
		return now.AddDate(0, 0, -2), true
	}
	got := rules(Evaluate(Input{Image: im, Policy: Policy{OpenAfterDays: 30}, Now: now, FirstSeen: seen}))
	if len(got) != 1 || got["CVE-1"] != "open-age" {
		t.Errorf("open-age: %v", got)
	}
}

func TestFreshness(t *testing.T) {
	d := vuln.Data{Tracker: &vuln.Dataset{AgeSeconds: 3 * 86400}}
	if err := CheckFreshness(d, DefaultMaxAge, false); err == nil || !strings.Contains(err.Error(), "--allow-stale") {
		t.Errorf("stale data: %v", err)
	}
	if err := CheckFreshness(d, DefaultMaxAge, true); err != nil {
		t.Error(err)
	}
}

func TestExceptionValidation(t *testing.T) {
	for _, e := range []Exception{
		{ID: "CVE-1", Status: "not_affected", Justification: "because", Reason: "r", Author: "a", Expires: "2026-01-01"},
		{ID: "CVE-1", Status: "affected", Reason: "r", Author: "a", Expires: "2026-01-01"},
		{ID: "CVE-1", Status: "fixed", Reason: "r", Author: "a", Expires: "2026-01-01"},
		{ID: "CVE-1", Status: "affected", Action: "x", Reason: "r", Author: "a", Expires: "soon"},
		{ID: "CVE-1", Status: "affected", Action: "x", Expires: "2026-01-01"},
	} {
		if err := e.validate(); err == nil {
			t.Errorf("accepted %+v", e)
		}
	}
}
