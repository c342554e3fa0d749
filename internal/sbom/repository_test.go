package sbom_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/sbom"
	"github.com/temper-dev/temper/internal/spec"
)

// repoInput is input(t) with php8.3-cli from the designated repository
// "PHP" (a name in capitals: the purl's vendor is lowercase) and inhouse
// from the definition's local_debs.
func repoInput(t *testing.T) sbom.Input {
	in := input(t)
	in.Repositories = []spec.LockRepository{
		{Name: "other", URL: "http://other.test/repo", Suite: "bookworm"},
		{Name: "PHP", URL: "http://php.test/php/", Suite: "bookworm"},
	}
	in.Packages = append(in.Packages,
		spec.LockedPackage{Name: "php8.3-cli", Version: "8.3.10-1+0~20240801.1+debian12~1.gbp1", Architecture: "amd64", Source: "php8.3", SourceVersion: "8.3.10-1+0~20240801.1+debian12~1.gbp1",
			Suite: "bookworm", Repository: "PHP", Filename: "pool/main/p/php8.3/php8.3-cli_8.3.10-1_amd64.deb", SHA256: hexOf("php8.3-cli"), Size: 10, RequiredBy: []string{"definition"}},
		spec.LockedPackage{Name: "inhouse", Version: "1.0", Architecture: "amd64", Source: "inhouse", SourceVersion: "1.0",
			Suite: spec.LocalRepository, Repository: spec.LocalRepository, Filename: "debs/inhouse_1.0_amd64.deb", SHA256: hexOf("inhouse"), Size: 10, RequiredBy: []string{"definition"}},
	)
	return in
}

const (
	phpPURL     = "pkg:deb/php/php8.3-cli@8.3.10-1%2B0~20240801.1%2Bdebian12~1.gbp1?arch=amd64&distro=debian-12.15&repository_url=http%3A%2F%2Fphp.test%2Fphp"
	phpURL      = "http://php.test/php/pool/main/p/php8.3/php8.3-cli_8.3.10-1_amd64.deb"
	inhousePURL = "pkg:deb/local/inhouse@1.0?arch=amd64&distro=debian-12.15"
	libcPURL    = "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12.15"
	libcURL     = "http://mirror.test/debian-security/pool/main/x/glibc/libc6_2.36-9+deb12u14_amd64.deb"
)

func TestPackageOrigin(t *testing.T) {
	in := repoInput(t)
	byName := map[string]spec.LockedPackage{}
	for _, p := range in.Packages {
		byName[p.Name] = p
	}
	for name, want := range map[string]sbom.Origin{
		"libc6":      {Vendor: "debian", URL: libcURL},
		"php8.3-cli": {Vendor: "php", RepositoryURL: "http://php.test/php", URL: phpURL},
		"inhouse":    {Vendor: "local"},
	} {
		if got := sbom.PackageOrigin(in.Mirrors, in.Repositories, byName[name]); got != want {
			t.Errorf("%s: origin %+v, want %+v", name, got, want)
		}
	}
	// The download location is where the build fetches the .deb from
	// (pool.Fetcher.URL), for Debian's suites and for a flat repository,
	// whose Filename is below its URL too.
	flat := spec.LockRepository{Name: "Flat", URL: "http://flat.test/r", Suite: "bookworm/"}
	fetcher := &pool.Fetcher{Mirrors: in.Mirrors}
	for _, p := range append(in.Packages, spec.LockedPackage{Name: "f", Version: "1", Repository: "Flat", Suite: "bookworm/", Filename: "bookworm/f_1_amd64.deb"}) {
		if p.Repository == spec.LocalRepository {
			continue
		}
		repos := append(in.Repositories, flat)
		it := pool.Item{Suite: p.Suite, Filename: p.Filename}
		for _, r := range repos {
			if p.Repository != "" && r.Name == p.Repository {
				it.Base = r.URL
			}
		}
		if got, want := sbom.PackageOrigin(in.Mirrors, repos, p).URL, fetcher.URL(it); got != want {
			t.Errorf("%s: download location %s, fetched from %s", p.Name, got, want)
		}
	}
	// Debian's mirror is never the download location of another
	// repository's package.
	if got := sbom.DownloadURL(in.Mirrors, byName["php8.3-cli"]); got != "" {
		t.Errorf("DownloadURL of a repository package: %q", got)
	}
	// The purl's repository_url decodes to the repository's URL.
	_, q, _ := strings.Cut(phpPURL, "?")
	if v, err := url.ParseQuery(q); err != nil || v.Get("repository_url") != "http://php.test/php" || v.Get("arch") != "amd64" {
		t.Errorf("qualifiers %v %v", v, err)
	}
}

func TestSPDXRepositoryPackages(t *testing.T) {
	in := repoInput(t)
	out, err := sbom.SPDX(in)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, compile(t, "spdx-schema-2.3.json"), out)
	var doc struct {
		Packages []struct {
			Name, DownloadLocation, Comment string
			Checksums                       []struct{ Algorithm, ChecksumValue string }
			ExternalRefs                    []struct{ ReferenceType, ReferenceLocator string }
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	type got struct{ purl, loc, comment, sum string }
	pkgs := map[string]got{}
	for _, p := range doc.Packages {
		pkgs[p.Name] = got{p.ExternalRefs[0].ReferenceLocator, p.DownloadLocation, p.Comment, p.Checksums[0].ChecksumValue}
	}
	for name, want := range map[string]got{
		"php8.3-cli": {phpPURL, phpURL, "architecture: amd64; repository: PHP; suite: bookworm", hexOf("php8.3-cli")},
		"inhouse":    {inhousePURL, "NOASSERTION", "architecture: amd64; repository: local; suite: local", hexOf("inhouse")},
		"libc6":      {libcPURL, libcURL, "architecture: amd64; suite: bookworm-security", hexOf("libc6")},
	} {
		if pkgs[name] != want {
			t.Errorf("%s:\n got  %+v\n want %+v", name, pkgs[name], want)
		}
	}
	// scan and verify read every pkg:deb purl, whatever its vendor.
	listed, _, err := sbom.SPDXPackages(out)
	if err != nil || len(listed) != 5 {
		t.Errorf("SPDXPackages: %v %v", listed, err)
	}
}

func TestCycloneDXRepositoryPackages(t *testing.T) {
	out, err := sbom.CycloneDX(repoInput(t))
	if err != nil {
		t.Fatal(err)
	}
	validate(t, compile(t, "bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json"), out)
	var bom struct {
		Components []struct {
			Name, Purl         string
			BOMRef             string `json:"bom-ref"`
			Hashes             []struct{ Alg, Content string }
			ExternalReferences []struct {
				Type, URL string
				Hashes    []struct{ Alg, Content string }
			}
			Properties []struct{ Name, Value string }
		}
		Dependencies []struct {
			Ref       string
			DependsOn []string
		}
	}
	if err := json.Unmarshal(out, &bom); err != nil {
		t.Fatal(err)
	}
	byName := map[string]int{}
	for i, c := range bom.Components {
		byName[c.Name] = i
	}
	props := func(name string) map[string]string {
		m := map[string]string{}
		for _, p := range bom.Components[byName[name]].Properties {
			m[p.Name] = p.Value
		}
		return m
	}
	php := bom.Components[byName["php8.3-cli"]]
	if php.Purl != phpPURL || php.BOMRef != phpPURL || len(php.ExternalReferences) != 1 || php.ExternalReferences[0].Type != "distribution" ||
		php.ExternalReferences[0].URL != phpURL || php.ExternalReferences[0].Hashes[0].Content != hexOf("php8.3-cli") || props("php8.3-cli")["temper:deb:repository"] != "PHP" {
		t.Errorf("php8.3-cli %+v", php)
	}
	inhouse := bom.Components[byName["inhouse"]]
	if inhouse.Purl != inhousePURL || len(inhouse.ExternalReferences) != 0 || inhouse.Hashes[0].Alg != "SHA-256" || inhouse.Hashes[0].Content != hexOf("inhouse") ||
		props("inhouse")["temper:deb:repository"] != "local" || props("inhouse")["temper:deb:filename"] != "debs/inhouse_1.0_amd64.deb" {
		t.Errorf("inhouse %+v", inhouse)
	}
	libc := bom.Components[byName["libc6"]]
	if libc.Purl != libcPURL || libc.ExternalReferences[0].URL != libcURL {
		t.Errorf("libc6 %+v", libc)
	}
	if _, ok := props("libc6")["temper:deb:repository"]; ok {
		t.Error("a Debian package has a repository property")
	}
	roots := map[string]bool{}
	for _, r := range bom.Dependencies[0].DependsOn {
		roots[r] = true
	}
	if !roots[phpPURL] || !roots[inhousePURL] {
		t.Errorf("the image's dependencies %v lack the repository and local packages", bom.Dependencies[0].DependsOn)
	}
}
