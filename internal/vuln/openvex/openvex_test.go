package openvex_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/vuln"
	"github.com/temper-dev/temper/internal/vuln/openvex"
	"github.com/temper-dev/temper/internal/vuln/policy"
)

func image() *vuln.Image {
	bin := func(name, version, arch string) vuln.Binary {
		return vuln.Binary{Name: name, Version: version, Architecture: arch}
	}
	ssl := []vuln.Binary{bin("openssl", "3.0.22-1~deb12u2", "amd64"), bin("libssl3", "3.0.22-1~deb12u2", "amd64"), bin("libssl3", "3.0.22-1~deb12u2", "arm64")}
	gcc := []vuln.Binary{bin("libgcc-s1", "12.2.0-14+deb12u1", "amd64")}
	f := func(id, src, ver string, st vuln.Status, fixed, comment string, bins []vuln.Binary) vuln.Finding {
		return vuln.Finding{ID: id, Source: src, SourceVersion: ver, Status: st, FixedVersion: fixed, Comment: comment, Binaries: bins}
	}
	return &vuln.Image{
		Definition: "base/12-bookworm.yaml", Release: "bookworm", Architectures: []string{"amd64", "arm64"},
		Findings: []vuln.Finding{
			f("CVE-2025-9230", "openssl", "3.0.22-1~deb12u2", vuln.Fixable, "3.0.23-1~deb12u1", "", ssl),
			f("CVE-2023-4039", "gcc-12", "12.2.0-14+deb12u1", vuln.NoDSA, "", "Minor issue", gcc),
			f("CVE-2025-0001", "gcc-12", "12.2.0-14+deb12u1", vuln.Undetermined, "", "", gcc),
			f("CVE-2025-9231", "openssl", "3.0.22-1~deb12u2", vuln.Open, "", "", ssl),
			f("CVE-2025-9232", "openssl", "3.0.22-1~deb12u2", vuln.Open, "", "", ssl),
		},
		Verdicts: []vuln.Finding{
			f("CVE-2023-0464", "openssl", "3.0.22-1~deb12u2", vuln.Fixed, "3.0.8-1", "", ssl),
			f("TEMP-0000000-A1B2C3", "gcc-12", "12.2.0-14+deb12u1", vuln.NotAffected, "0", "", gcc),
		},
	}
}

// TestDocument: every status of the mapping, the exceptions (an unexpired
// one replaces Debian's verdict, an expired one does not), the image purl
// with its digest and the SBOMs' package purls as subcomponents.
func TestDocument(t *testing.T) {
	exc := []policy.Decision{
		{Exception: policy.Exception{ID: "CVE-2025-9231", Status: "not_affected", Justification: "vulnerable_code_not_in_execute_path", Reason: "SM2 is not used", Author: "platform@example.com", Expires: "2099-12-31", File: "vex.yaml"}, Source: "openssl"},
		{Exception: policy.Exception{ID: "CVE-2025-9232", Status: "affected", Action: "rebuild when Debian fixes it", Reason: "r", Author: "a", Expires: "2020-01-01", File: "vex.yaml"}, Source: "openssl", Expired: true},
	}
	opt := openvex.Options{Name: "base", Digest: "sha256:abc", Distro: "debian-12.13", Timestamp: time.Date(2026, 11, 24, 8, 0, 0, 0, time.FixedZone("x", 3600)), Exceptions: exc}
	raw, err := openvex.Document(image(), opt)
	if err != nil {
		t.Fatal(err)
	}
	var d openvex.Doc
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if d.Context != "https://openvex.dev/ns/v0.2.0" || d.Author != "temper" || d.Timestamp != "2026-11-24T07:00:00Z" || d.Version != 1 || !strings.HasPrefix(d.ID, "https://openvex.dev/docs/public/vex-") {
		t.Errorf("header %+v", d)
	}
	byID := map[string]openvex.Statement{}
	var order []string
	for _, s := range d.Statements {
		byID[s.Vulnerability.Name] = s
		order = append(order, s.Vulnerability.Name)
		if s.Products[0].ID != "pkg:oci/base@sha256%3Aabc" {
			t.Errorf("%s: product %s", s.Vulnerability.Name, s.Products[0].ID)
		}
	}
	if strings.Join(order, " ") != "CVE-2023-0464 CVE-2023-4039 CVE-2025-0001 CVE-2025-9230 CVE-2025-9231 CVE-2025-9232 TEMP-0000000-A1B2C3" {
		t.Errorf("order %v", order)
	}
	check := func(id, status, field, want string) {
		t.Helper()
		s := byID[id]
		got := map[string]string{"justification": s.Justification, "action": s.ActionStatement, "notes": s.StatusNotes, "impact": s.ImpactStatement}[field]
		if s.Status != status || !strings.Contains(got, want) {
			t.Errorf("%s: status %q %s %q, want %q containing %q", id, s.Status, field, got, status, want)
		}
	}
	check("CVE-2023-0464", "fixed", "notes", "Debian fixed this in openssl 3.0.8-1; 3.0.22-1~deb12u2 is locked")
	check("TEMP-0000000-A1B2C3", "not_affected", "justification", "vulnerable_code_not_present")
	check("TEMP-0000000-A1B2C3", "not_affected", "impact", "gcc-12 in bookworm never contained the vulnerable code")
	check("CVE-2025-9230", "affected", "action", "Update openssl to 3.0.23-1~deb12u1 or later (temper update)")
	check("CVE-2023-4039", "affected", "action", "No fix in Debian bookworm")
	check("CVE-2023-4039", "affected", "notes", "Debian status: no-dsa: Minor issue")
	check("CVE-2025-0001", "under_investigation", "notes", "Debian has not yet determined whether gcc-12 is affected")
	check("CVE-2025-9231", "not_affected", "justification", "vulnerable_code_not_in_execute_path")
	check("CVE-2025-9231", "not_affected", "notes", "exception by platform@example.com, expires 2099-12-31 (vex.yaml)")
	check("CVE-2025-9232", "affected", "action", "No fix in Debian bookworm") // the exception expired
	subs := byID["CVE-2025-9230"].Products[0].Subcomponents
	var purls []string
	for _, c := range subs {
		purls = append(purls, c.ID)
	}
	if want := "pkg:deb/debian/libssl3@3.0.22-1~deb12u2?arch=amd64&distro=debian-12.13 pkg:deb/debian/libssl3@3.0.22-1~deb12u2?arch=arm64&distro=debian-12.13 pkg:deb/debian/openssl@3.0.22-1~deb12u2?arch=amd64&distro=debian-12.13"; strings.Join(purls, " ") != want {
		t.Errorf("subcomponents\n%s\nwant\n%s", strings.Join(purls, " "), want)
	}
	// Deterministic: the same input gives the same bytes, another digest another @id.
	again, _ := openvex.Document(image(), opt)
	if string(again) != string(raw) {
		t.Error("Document is not deterministic")
	}
	opt.Digest = "sha256:def"
	other, _ := openvex.Document(image(), opt)
	var d2 openvex.Doc
	json.Unmarshal(other, &d2)
	if d2.ID == d.ID {
		t.Error("another image, the same @id")
	}
}

// TestDocumentEmptyAndUnbuilt: a scan of a lock (no digest, no distro)
// names pkg:oci/NAME and plain purls; no statements is [] not null.
func TestDocumentEmptyAndUnbuilt(t *testing.T) {
	raw, err := openvex.Document(&vuln.Image{Release: "bookworm"}, openvex.Options{Name: "base"})
	if err != nil || !strings.Contains(string(raw), `"statements": []`) {
		t.Errorf("empty document: %v\n%s", err, raw)
	}
	img := image()
	img.Findings, img.Verdicts = img.Findings[:1], nil
	raw, _ = openvex.Document(img, openvex.Options{Name: "base"})
	if !strings.Contains(string(raw), `"@id": "pkg:oci/base"`) || !strings.Contains(string(raw), `"@id": "pkg:deb/debian/openssl@3.0.22-1~deb12u2?arch=amd64"`) {
		t.Errorf("unbuilt:\n%s", raw)
	}
	if openvex.ImagePURL("my image", "") != "pkg:oci/my%20image" {
		t.Errorf("escaped name: %s", openvex.ImagePURL("my image", ""))
	}
}
