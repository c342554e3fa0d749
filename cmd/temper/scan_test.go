package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scanEnv is a catalog with the real base bookworm definition and lock,
// and the vuln package's fixture tracker and KEV files dated fetched.
type scanEnv struct {
	dir, cache, tracker, kev string
	now                      time.Time
}

func newScanEnv(t *testing.T) *scanEnv {
	t.Helper()
	fetched := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	e := &scanEnv{dir: t.TempDir(), cache: t.TempDir(), now: fetched.Add(2 * time.Hour)}
	for _, f := range []string{"12-bookworm.yaml", "12-bookworm.lock.yaml"} {
		copyFile(t, filepath.Join("../../examples/catalog/base", f), filepath.Join(e.dir, "base", f))
	}
	e.tracker = filepath.Join(e.dir, "data", "tracker.json")
	e.kev = filepath.Join(e.dir, "data", "kev.json")
	copyFile(t, "../../internal/vuln/testdata/tracker.json", e.tracker)
	copyFile(t, "../../internal/vuln/testdata/kev.json", e.kev)
	for _, f := range []string{e.tracker, e.kev} {
		os.Chtimes(f, fetched, fetched)
	}
	return e
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(to), 0o755)
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs temper with the env's cache and clock and returns stdout and
// the exit status run() would give.
func (e *scanEnv) run(t *testing.T, args ...string) (string, int, error) {
	t.Helper()
	g := &globalFlags{aptRoot: t.TempDir(), now: func() time.Time { return e.now }}
	root := newRootCommand(g)
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(append([]string{"--cache", e.cache, "--config", filepath.Join(e.dir, "none.yaml")}, args...))
	os.WriteFile(filepath.Join(e.dir, "none.yaml"), nil, 0o644)
	err := root.Execute()
	var st exitStatus
	if errors.As(err, &st) {
		return out.String(), int(st), nil
	}
	if err != nil {
		return out.String(), 1, err
	}
	return out.String(), 0, nil
}

func TestScanGateExitAndJSON(t *testing.T) {
	e := newScanEnv(t)
	vex := filepath.Join(e.dir, "vex")
	out, st, err := e.run(t, "scan", "--json", "--tracker", e.tracker, "--kev", e.kev, "--openvex", vex, "--sarif", filepath.Join(e.dir, "scan.sarif"), filepath.Join(e.dir, "base"))
	if err != nil || st != exitGateFailed {
		t.Fatalf("scan: status %d, %v\n%s", st, err, out)
	}
	var rep struct {
		Data struct {
			Tracker struct {
				SHA256     string `json:"sha256"`
				AgeSeconds int64  `json:"age_seconds"`
			} `json:"tracker"`
		} `json:"data"`
		Images []struct {
			Definition, Release string
			Architectures       []string
			Findings            []struct {
				ID, Source, Status string
				SourceVersion      string `json:"source_version"`
				FixedVersion       string `json:"fixed_version"`
				Packages           []string
			}
			Gate struct {
				Passed     bool
				Violations []struct{ ID, Rule, Message string }
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Data.Tracker.AgeSeconds != 7200 || len(rep.Images) != 1 {
		t.Fatalf("report: %+v", rep)
	}
	img := rep.Images[0]
	got := map[string]string{}
	for _, f := range img.Findings {
		got[f.ID+" "+f.Source] = f.Status
	}
	// The real lock: openssl 3.0.22-1~deb12u2 (libssl3), gcc-12 (libgcc-s1),
	// glibc 2.36-9+deb12u14 (fixed for CVE-2023-4911), zlib with an epoch.
	for k, v := range map[string]string{"CVE-2025-9230 openssl": "fixable", "CVE-2023-4039 gcc-12": "no-dsa", "CVE-2025-9231 openssl": "fixable", "CVE-2026-0861 glibc": "open"} {
		if got[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if _, ok := got["CVE-2023-4911 glibc"]; ok {
		t.Error("CVE-2023-4911 is fixed in the locked glibc")
	}
	if img.Gate.Passed || len(img.Gate.Violations) != 1 || img.Gate.Violations[0].ID != "CVE-2025-9231" || img.Gate.Violations[0].Rule != "fixable" {
		t.Errorf("gate: %+v", img.Gate)
	}
	doc, err := os.ReadFile(filepath.Join(vex, "base_12-bookworm.openvex.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"@context": "https://openvex.dev/ns/v0.2.0"`, `"status": "fixed"`, `"status": "not_affected"`, `"status": "under_investigation"`, `"status": "affected"`, `pkg:deb/debian/libssl3@3.0.22-1~deb12u2?arch=amd64`, `"@id": "pkg:oci/base"`} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("OpenVEX document lacks %s", want)
		}
	}
	if _, err := os.Stat(filepath.Join(e.dir, "scan.sarif")); err != nil {
		t.Error(err)
	}
}

func TestScanExceptionsAndStale(t *testing.T) {
	e := newScanEnv(t)
	exc := filepath.Join(e.dir, "exceptions.yaml")
	os.WriteFile(exc, []byte(`exceptions:
  - id: CVE-2025-9231
    status: not_affected
    justification: vulnerable_code_not_in_execute_path
    reason: SM2 is not used by any service of this image
    author: platform@example.com
    expires: 2026-12-31
`), 0o644)
	out, st, err := e.run(t, "scan", "--tracker", e.tracker, "--kev", e.kev, "--exceptions", exc, filepath.Join(e.dir, "base"))
	if err != nil || st != 0 || !strings.Contains(out, "gate: passed") || !strings.Contains(out, "exception CVE-2025-9231 not_affected") {
		t.Fatalf("with an exception: status %d, %v\n%s", st, err, out)
	}
	// After its expiry the exception is reported and the gate fails again.
	e.now = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	out, st, err = e.run(t, "scan", "--tracker", e.tracker, "--kev", e.kev, "--exceptions", exc, "--allow-stale", filepath.Join(e.dir, "base"))
	if err != nil || st != exitGateFailed || !strings.Contains(out, "EXPIRED, not applied") {
		t.Fatalf("expired exception: status %d, %v\n%s", st, err, out)
	}
	// Data older than max_age (24h) is refused without --allow-stale.
	_, st, err = e.run(t, "scan", "--tracker", e.tracker, "--kev", e.kev, filepath.Join(e.dir, "base"))
	if st != 1 || err == nil || !strings.Contains(err.Error(), "--allow-stale") {
		t.Fatalf("stale data: status %d, %v", st, err)
	}
}

func TestVulnUpdateFromFiles(t *testing.T) {
	e := newScanEnv(t)
	out, st, err := e.run(t, "vuln", "update", "--tracker", e.tracker, "--kev", e.kev)
	if err != nil || st != 0 || !strings.Contains(out, "tracker updated") {
		t.Fatalf("vuln update: %d %v\n%s", st, err, out)
	}
	out, st, err = e.run(t, "scan", filepath.Join(e.dir, "base"))
	if err != nil || st != exitGateFailed || !strings.Contains(out, "KEV ") {
		t.Fatalf("scan from the cache: %d %v\n%s", st, err, out)
	}
}

// TestScanErrorFailsGate: a definition that cannot be scanned (here not
// locked) beside one that passes: the command exits 1, and the unscanned
// image's gate fails (rule not-scanned) in JSON and text, never passes.
func TestScanErrorFailsGate(t *testing.T) {
	e := newScanEnv(t)
	exc := filepath.Join(e.dir, "exceptions.yaml")
	os.WriteFile(exc, []byte("exceptions:\n  - {id: CVE-2025-9231, status: not_affected, justification: vulnerable_code_not_in_execute_path, reason: r, author: a, expires: 2026-12-31}\n"), 0o644)
	copyFile(t, filepath.Join(e.dir, "base", "12-bookworm.yaml"), filepath.Join(e.dir, "unlocked", "12-bookworm.yaml"))
	out, st, err := e.run(t, "scan", "--json", "--tracker", e.tracker, "--kev", e.kev, "--exceptions", exc, filepath.Join(e.dir, "base"), filepath.Join(e.dir, "unlocked"))
	if st != 1 || err == nil || !strings.Contains(err.Error(), "could not be scanned") {
		t.Fatalf("status %d, %v", st, err)
	}
	var rep struct {
		Images []struct {
			Definition, Error string
			Gate              *struct {
				Passed     bool
				Violations []struct{ ID, Rule, Message string }
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Images) != 2 {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, im := range rep.Images {
		unlocked := strings.Contains(im.Definition, "unlocked")
		switch {
		case im.Gate == nil:
			t.Errorf("%s: no gate", im.Definition)
		case unlocked && (im.Gate.Passed || im.Error == "" || len(im.Gate.Violations) != 1 || im.Gate.Violations[0].Rule != "not-scanned" || !strings.Contains(im.Gate.Violations[0].Message, "not locked")):
			t.Errorf("unscanned image: %+v", im)
		case !unlocked && !im.Gate.Passed:
			t.Errorf("scanned image: %+v", im)
		}
	}
	out, st, _ = e.run(t, "scan", "--tracker", e.tracker, "--kev", e.kev, filepath.Join(e.dir, "unlocked"))
	if st != 1 || !strings.Contains(out, "error: not locked") || !strings.Contains(out, "gate: FAILED (not scanned)") || strings.Contains(out, "gate: passed") {
		t.Errorf("text: %d\n%s", st, out)
	}
}
