package sbom_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/sbom"
	"github.com/temper-dev/temper/internal/spec"
)

const dep5 = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: glibc

Files: *
Copyright: 1991-2023 Free Software Foundation, Inc.
License: LGPL-2.1+

Files: debian/*
Copyright: 2000 somebody
License: GPL-2+ or Artistic

Files: weird/*
Copyright: 2001 someone
License: GPL-2+ with OpenSSL exception

License: LGPL-2.1+
 This library is free software...
`

type file struct {
	name, data, link string
}

func layer(t *testing.T, files ...file) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg}
		if f.link != "" {
			h = &tar.Header{Name: f.name, Mode: 0o777, Typeflag: tar.TypeSymlink, Linkname: f.link}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(f.data))
	}
	tw.Close()
	return buf.Bytes()
}

func status(name, version, maint string) file {
	return file{name: "var/lib/dpkg/status.d/" + name, data: "Package: " + name + "\nStatus: install ok installed\nVersion: " + version + "\nArchitecture: amd64\nMaintainer: " + maint + "\nDescription: x\n multi-line\n"}
}

func fixtureFacts(t *testing.T) *sbom.Facts {
	f, err := sbom.ReadLayer(bytes.NewReader(layer(t,
		status("libc6", "2.36-9+deb12u14", "GNU Libc Maintainers <debian-glibc@lists.debian.org>"),
		file{name: "var/lib/dpkg/status.d/libc6.md5sums", data: "x  usr/lib/libc.so.6\n"},
		status("libstdc++6", "12.2.0-14+deb12u1", "Debian GCC Maintainers <debian-gcc@lists.debian.org>"),
		status("python3", "3.11.2-1+b1", "Matthias Klose <doko@debian.org>"),
		file{name: "usr/share/doc/libc6/copyright", data: dep5},
		file{name: "usr/share/doc/libstdc++6", link: "libc6"},
		file{name: "usr/share/doc/python3/copyright", data: "This is not machine-readable.\nLicense: GPL\n"},
		file{name: "usr/lib/os-release", data: "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"},
		file{name: "etc/debian_version", data: "12.15\n"},
	)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestReadLayerAndLicenses(t *testing.T) {
	f := fixtureFacts(t)
	if f.Distro != "debian-12.15" {
		t.Errorf("distro %q", f.Distro)
	}
	if len(f.Packages) != 3 || f.Packages["libc6"].Maintainer != "GNU Libc Maintainers <debian-glibc@lists.debian.org>" || f.Packages["libc6"].Version != "2.36-9+deb12u14" {
		t.Errorf("packages %+v", f.Packages)
	}
	want := "GPL-2+ or Artistic,GPL-2+ with OpenSSL exception,LGPL-2.1+"
	if got := strings.Join(f.Packages["libc6"].Licenses, ","); got != want {
		t.Errorf("libc6 licenses %q, want %q", got, want)
	}
	if got := strings.Join(f.Packages["libstdc++6"].Licenses, ","); got != want {
		t.Errorf("libstdc++6 (doc symlink) licenses %q", got)
	}
	if f.Packages["python3"].Licenses != nil {
		t.Errorf("not machine-readable, got %v", f.Packages["python3"].Licenses)
	}
	refs := map[string]string{}
	if got := sbom.LicenseExpression(f.Packages["libc6"].Licenses, refs); got != "(GPL-2.0-or-later OR Artistic-1.0-Perl) AND LGPL-2.1-or-later AND LicenseRef-GPL-2-or-later-with-OpenSSL-exception" {
		t.Errorf("expression %q", got)
	}
	if refs["LicenseRef-GPL-2-or-later-with-OpenSSL-exception"] != "GPL-2+ with OpenSSL exception" {
		t.Errorf("refs %v", refs)
	}
	for names, want := range map[string]string{"": "NOASSERTION", "Expat": "MIT", "GPL-3+": "GPL-3.0-or-later", "BSD-3-clause": "BSD-3-Clause", "public-domain": "LicenseRef-public-domain", "GPL-2 or LGPL-2.1+": "GPL-2.0-only OR LGPL-2.1-or-later"} {
		var in []string
		if names != "" {
			in = []string{names}
		}
		if got := sbom.LicenseExpression(in, nil); got != want {
			t.Errorf("%q → %q, want %q", names, got, want)
		}
	}
	for _, c := range []struct{ osr, dv, want string }{
		{"ID=debian\nVERSION_ID=\"13\"\n", "13.1\n", "debian-13.1"},
		{"ID=debian\nVERSION_ID=\"12\"\n", "", "debian-12"},
		{"ID=debian\nVERSION_CODENAME=forky\n", "forky/sid\n", "debian-forky"},
	} {
		if got := sbom.Distro([]byte(c.osr), []byte(c.dv)); got != c.want {
			t.Errorf("Distro(%q, %q) = %q, want %q", c.osr, c.dv, got, c.want)
		}
	}
}

func TestPURL(t *testing.T) {
	if got := sbom.PURL("libc6", "2.36-9+deb12u14", "amd64", "debian-12.15"); got != "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12.15" {
		t.Errorf("purl %s", got)
	}
	if got := sbom.PURL("libstdc++6", "1:2.0", "all", ""); got != "pkg:deb/debian/libstdc%2B%2B6@1%3A2.0?arch=all" {
		t.Errorf("purl %s", got)
	}
}

func hexOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func input(t *testing.T) sbom.Input {
	pk := func(name, ver, src, suite string, by ...string) spec.LockedPackage {
		return spec.LockedPackage{Name: name, Version: ver, Architecture: "amd64", Source: src, SourceVersion: ver, Suite: suite,
			Filename: "pool/main/x/" + src + "/" + name + "_" + ver + "_amd64.deb", SHA256: hexOf(name), Size: 10, RequiredBy: by}
	}
	return sbom.Input{
		Name: "python", Version: "3.11", Release: "bookworm", Arch: "amd64",
		Digest:     "sha256:" + strings.Repeat("ab", 32),
		Repository: "127.0.0.1:5000/temper/python",
		Packages: []spec.LockedPackage{
			pk("python3", "3.11.2-1+b1", "python3-defaults", "bookworm", "definition"),
			pk("libstdc++6", "12.2.0-14+deb12u1", "gcc-12", "bookworm", "python3"),
			pk("libc6", "2.36-9+deb12u14", "glibc", "bookworm-security", "libstdc++6", "python3"),
		},
		Mirrors:     archive.Mirrors{Archive: "http://mirror.test/debian", Security: "http://mirror.test/debian-security"},
		Facts:       fixtureFacts(t),
		Maintainers: map[string]string{"python3": "Debian Python Team <team+python@tracker.debian.org>"},
		Created:     time.Date(2025, 11, 1, 10, 0, 0, 0, time.UTC),
		Tool:        "temper-test",
	}
}

func compile(t *testing.T, main string, extra ...string) *jsonschema.Schema {
	c := jsonschema.NewCompiler()
	for _, f := range append([]string{main}, extra...) {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if id == "" {
			id = "file:///" + f
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatal(err)
		}
		if f == main {
			main = id
		}
	}
	s, err := c.Compile(main)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, data []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(doc); err != nil {
		t.Fatalf("schema: %v\n%s", err, data)
	}
}

func TestSPDX(t *testing.T) {
	in := input(t)
	out, err := sbom.SPDX(in)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, compile(t, "spdx-schema-2.3.json"), out)
	again, _ := sbom.SPDX(input(t))
	if !bytes.Equal(out, again) {
		t.Error("SPDX output is not deterministic")
	}
	var doc struct {
		DocumentNamespace string
		Packages          []struct {
			SPDXID, Name, VersionInfo, DownloadLocation, Supplier, LicenseDeclared, SourceInfo, PrimaryPackagePurpose string
			Checksums                                                                                                 []struct{ Algorithm, ChecksumValue string }
			ExternalRefs                                                                                              []struct{ ReferenceType, ReferenceLocator string }
		}
		Relationships []struct{ SpdxElementId, RelatedSpdxElement, RelationshipType string }
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	byName := map[string]int{}
	for i, p := range doc.Packages {
		byName[p.Name] = i
	}
	root := doc.Packages[0]
	if root.SPDXID != "SPDXRef-image" || root.PrimaryPackagePurpose != "CONTAINER" || root.Checksums[0].ChecksumValue != strings.Repeat("ab", 32) {
		t.Errorf("root %+v", root)
	}
	libc := doc.Packages[byName["libc6"]]
	if libc.DownloadLocation != "http://mirror.test/debian-security/pool/main/x/glibc/libc6_2.36-9+deb12u14_amd64.deb" ||
		libc.Supplier != "Organization: GNU Libc Maintainers <debian-glibc@lists.debian.org>" ||
		libc.SourceInfo != "built package from: glibc 2.36-9+deb12u14" ||
		libc.ExternalRefs[0].ReferenceLocator != "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12.15" ||
		libc.Checksums[0].Algorithm != "SHA256" || libc.Checksums[0].ChecksumValue != hexOf("libc6") ||
		!strings.Contains(libc.LicenseDeclared, "LGPL-2.1-or-later") {
		t.Errorf("libc6 %+v", libc)
	}
	py := doc.Packages[byName["python3"]]
	if py.LicenseDeclared != "NOASSERTION" || py.Supplier != "Organization: Debian Python Team <team+python@tracker.debian.org>" || py.DownloadLocation != "http://mirror.test/debian/pool/main/x/python3-defaults/python3_3.11.2-1+b1_amd64.deb" {
		t.Errorf("python3 %+v", py)
	}
	rels := map[string]bool{}
	for _, r := range doc.Relationships {
		rels[r.SpdxElementId+" "+r.RelationshipType+" "+r.RelatedSpdxElement] = true
	}
	id := func(n string) string { return doc.Packages[byName[n]].SPDXID }
	for _, want := range []string{
		"SPDXRef-DOCUMENT DESCRIBES SPDXRef-image",
		"SPDXRef-image CONTAINS " + id("libc6"),
		"SPDXRef-image DEPENDS_ON " + id("python3"),
		id("python3") + " DEPENDS_ON " + id("libc6"),
		id("python3") + " DEPENDS_ON " + id("libstdc++6"),
		id("libstdc++6") + " DEPENDS_ON " + id("libc6"),
	} {
		if !rels[want] {
			t.Errorf("missing relationship %s", want)
		}
	}
	if rels[id("libc6")+" DEPENDS_ON "+id("python3")] {
		t.Error("DEPENDS_ON points the wrong way")
	}
	listed, digest, err := sbom.SPDXPackages(out)
	if err != nil || len(listed) != 3 || digest != in.Digest {
		t.Fatalf("SPDXPackages: %v %v %v", listed, digest, err)
	}
	if d := sbom.Compare(listed, in.Facts.Packages); len(d) != 0 {
		t.Errorf("compare: %v", d)
	}
	facts := map[string]sbom.PackageFacts{"libc6": {Version: "2.36-9+deb12u15"}, "python3": {Version: "3.11.2-1+b1"}, "bash": {Version: "5.2"}}
	d := strings.Join(sbom.Compare(listed, facts), "\n")
	for _, want := range []string{"libc6: the SBOM says 2.36-9+deb12u14, the image's /var/lib/dpkg/status.d/libc6 says 2.36-9+deb12u15", "libstdc++6 12.2.0-14+deb12u1 is in the SBOM but not in the image", "bash 5.2 is in the image's /var/lib/dpkg/status.d but not in the SBOM"} {
		if !strings.Contains(d, want) {
			t.Errorf("compare: missing %q in\n%s", want, d)
		}
	}
	in.Digest = "sha256:short"
	if _, err := sbom.SPDX(in); err == nil {
		t.Error("bad digest accepted")
	}
}

func TestCycloneDX(t *testing.T) {
	out, err := sbom.CycloneDX(input(t))
	if err != nil {
		t.Fatal(err)
	}
	validate(t, compile(t, "bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json"), out)
	again, _ := sbom.CycloneDX(input(t))
	if !bytes.Equal(out, again) {
		t.Error("CycloneDX output is not deterministic")
	}
	var bom struct {
		SpecVersion string
		Metadata    struct {
			Component struct{ Type, Name, Purl string }
		}
		Components []struct {
			Name, Version, Purl string
			Supplier            struct{ Name string }
			Hashes              []struct{ Alg, Content string }
			Licenses            []struct{ Expression string }
			ExternalReferences  []struct{ Type, URL string }
		}
		Dependencies []struct {
			Ref       string
			DependsOn []string
		}
	}
	if err := json.Unmarshal(out, &bom); err != nil {
		t.Fatal(err)
	}
	if bom.SpecVersion != "1.6" || bom.Metadata.Component.Type != "container" || !strings.HasPrefix(bom.Metadata.Component.Purl, "pkg:oci/python@sha256%3Aabab") {
		t.Errorf("bom %+v", bom.Metadata)
	}
	libc := bom.Components[0]
	if libc.Name != "libc6" || libc.Purl != "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12.15" || libc.Hashes[0].Alg != "SHA-256" ||
		libc.Supplier.Name == "" || len(libc.Licenses) != 1 || libc.ExternalReferences[0].Type != "distribution" {
		t.Errorf("libc6 %+v", libc)
	}
	deps := map[string][]string{}
	for _, d := range bom.Dependencies {
		deps[d.Ref] = d.DependsOn
	}
	if got := deps["pkg:deb/debian/python3@3.11.2-1%2Bb1?arch=amd64&distro=debian-12.15"]; len(got) != 2 {
		t.Errorf("python3 depends on %v", got)
	}
}
