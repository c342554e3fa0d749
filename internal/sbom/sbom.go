// Package sbom describes what is inside a temper image as an SPDX 2.3 and
// a CycloneDX 1.6 JSON document, one per architecture, generated from the
// lock (every package, its .deb and its SHA-256, its source, the
// dependency edges the resolver recorded) and enriched with what the
// image's own files say (maintainers, DEP-5 licenses, the distro release),
// with the image itself as the root element. The same inputs give the
// same bytes: no clock, no random identifiers.
package sbom

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/spec"
)

// Input is everything one architecture's SBOM is made from.
type Input struct {
	Name    string // the image (definition) name, e.g. "python"
	Version string // the definition's version, e.g. "3.11"
	Release string // the Debian release, e.g. "bookworm"
	Arch    string // Debian architecture of the image
	// Digest is the image's (platform manifest's) digest, "sha256:<hex>".
	Digest string
	// Repository is where the image is published (e.g.
	// "registry.example/team/python"), if anywhere; it becomes the root's
	// purl repository_url.
	Repository string
	Packages   []spec.LockedPackage
	// Mirrors give the download location of each .deb of Debian's
	// archive; empty means NOASSERTION.
	Mirrors archive.Mirrors
	// Repositories are the lock's designated repositories
	// (spec.Lock.Repositories): a package the lock took from one was
	// downloaded from below its URL, and its purl names it (Origin).
	Repositories []spec.LockRepository
	// Facts are read from the image (ReadLayer); nil leaves suppliers and
	// licenses NOASSERTION and the purls without a distro.
	Facts *Facts
	// Maintainers overrides or supplies the Maintainer of packages by name.
	Maintainers map[string]string
	// Created is the document's creation time; temper passes the lock's
	// epoch so that SBOMs are reproducible.
	Created time.Time
	// Tool names the generator, e.g. "temper-0.4.0".
	Tool string
}

// Package is one package as both formats describe it.
type Package struct {
	spec.LockedPackage
	PURL       string
	URL        string // download location of the .deb, or ""
	Maintainer string // or ""
	License    string // SPDX expression or NOASSERTION
}

// Packages returns the input's packages sorted by name and architecture,
// with purls, URLs, maintainers and licenses filled in; refs receives the
// LicenseRefs used.
func (in *Input) packages(refs map[string]string) []Package {
	out := make([]Package, 0, len(in.Packages))
	distro := ""
	if in.Facts != nil {
		distro = in.Facts.Distro
	}
	for _, p := range in.Packages {
		o := PackageOrigin(in.Mirrors, in.Repositories, p)
		q := Package{LockedPackage: p, PURL: o.PURL(p.Name, p.Version, p.Architecture, distro), URL: o.URL, License: "NOASSERTION"}
		if in.Facts != nil {
			if f, ok := in.Facts.Packages[p.Name]; ok {
				q.Maintainer = f.Maintainer
				q.License = LicenseExpression(f.Licenses, refs)
			}
		}
		if m, ok := in.Maintainers[p.Name]; ok {
			q.Maintainer = m
		}
		out = append(out, q)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Architecture < out[j].Architecture
	})
	return out
}

// Origin is where a locked package came from, as the evidence names it.
type Origin struct {
	// Vendor is the purl namespace, the "vendor" of purl's deb type:
	// "debian" for Debian's archive, a designated repository's name
	// lowercased (the spec's namespaces are lowercase), "local" for the
	// definition's local_debs.
	Vendor string
	// RepositoryURL is a designated repository's base URL, the purl's
	// repository_url qualifier (purl's deb type has no default repository:
	// for a package not Debian's, the base URL says where it lives); ""
	// for Debian's archive and for local_debs.
	RepositoryURL string
	// URL is where the .deb was downloaded from: the mirror, or the
	// designated repository's URL and the package's Filename (where the
	// build fetches it). "" when the mirror is unknown, and for a
	// local_debs .deb, which is read from the catalog, not downloaded.
	URL string
}

// Vendors of the packages not taken from designated repositories.
const (
	VendorDebian = "debian"
	VendorLocal  = spec.LocalRepository
)

// PackageOrigin is the origin of a locked package: p.Repository names
// the designated repository of repos it was taken from ("" for Debian's
// archive, spec.LocalRepository for local_debs).
func PackageOrigin(m archive.Mirrors, repos []spec.LockRepository, p spec.LockedPackage) Origin {
	switch p.Repository {
	case "":
		return Origin{Vendor: VendorDebian, URL: DownloadURL(m, p)}
	case spec.LocalRepository:
		return Origin{Vendor: VendorLocal}
	}
	o := Origin{Vendor: strings.ToLower(p.Repository)}
	for _, r := range repos {
		if r.Name == p.Repository {
			o.RepositoryURL = strings.TrimRight(r.URL, "/")
			break
		}
	}
	if o.RepositoryURL != "" && p.Filename != "" {
		o.URL = o.RepositoryURL + "/" + strings.TrimLeft(p.Filename, "/")
	}
	return o
}

// DownloadURL is where a locked .deb of Debian's archive is downloaded
// from: suites ending in -security live in the security archive, the
// others in the main archive. It is "" when the matching mirror is
// unknown, and for a package not Debian's (PackageOrigin says where those
// come from).
func DownloadURL(m archive.Mirrors, p spec.LockedPackage) string {
	base := m.Archive
	if strings.HasSuffix(p.Suite, "-security") {
		base = m.Security
	}
	if base == "" || p.Filename == "" || p.Repository != "" {
		return ""
	}
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(p.Filename, "/")
}

// PURL returns the package URL of a package of Debian's archive as
// scanners write it:
// pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12.15.
// distro may be empty.
func PURL(name, version, arch, distro string) string {
	return Origin{Vendor: VendorDebian}.PURL(name, version, arch, distro)
}

// PURL returns the package URL of a package of this origin:
// pkg:deb/VENDOR/NAME@VERSION?arch=ARCH&distro=DISTRO&repository_url=URL,
// qualifiers sorted by key as purl's canonical form has them, the
// repository_url only for a designated repository's package, e.g.
// pkg:deb/php/php8.3-cli@8.3.10-1%2Bdeb12?arch=amd64&distro=debian-12.15&repository_url=http%3A%2F%2Fhost%2Fphp.
// distro may be empty.
func (o Origin) PURL(name, version, arch, distro string) string {
	vendor := o.Vendor
	if vendor == "" {
		vendor = VendorDebian
	}
	s := "pkg:deb/" + purlEscape(vendor) + "/" + purlEscape(name) + "@" + purlEscape(version)
	var q []string
	if arch != "" {
		q = append(q, "arch="+purlEscape(arch))
	}
	if distro != "" {
		q = append(q, "distro="+purlEscape(distro))
	}
	if o.RepositoryURL != "" {
		q = append(q, "repository_url="+purlEscape(o.RepositoryURL))
	}
	if len(q) > 0 {
		s += "?" + strings.Join(q, "&")
	}
	return s
}

// purlEscape percent-encodes everything but unreserved characters (so
// "+" is %2B and an epoch's ":" is %3A).
func purlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_', c == '~':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// imagePURL is the root element's purl: pkg:oci/NAME@sha256%3A...?arch=...
func (in *Input) imagePURL() string {
	s := "pkg:oci/" + purlEscape(in.Name) + "@" + purlEscape(in.Digest) + "?arch=" + purlEscape(goArch(in.Arch))
	if in.Repository != "" {
		s += "&repository_url=" + purlEscape(in.Repository)
	}
	return s
}

// goArch maps the Debian architectures temper builds to OCI ones.
func goArch(a string) string {
	switch a {
	case "i386":
		return "386"
	case "armhf", "armel":
		return "arm"
	case "ppc64el":
		return "ppc64le"
	}
	return a
}

func (in *Input) check() error {
	if in.Name == "" || in.Arch == "" {
		return fmt.Errorf("sbom: image name and architecture are required")
	}
	if !strings.HasPrefix(in.Digest, "sha256:") || len(in.Digest) != 71 {
		return fmt.Errorf("sbom: %s %s: image digest %q is not sha256:<hex>", in.Name, in.Arch, in.Digest)
	}
	return nil
}

func (in *Input) created() string {
	return in.Created.UTC().Truncate(time.Second).Format(time.RFC3339)
}

func (in *Input) tool() string {
	if in.Tool == "" {
		return "temper"
	}
	return in.Tool
}

// docID derives a stable identifier from the image digest.
func (in *Input) docID() string {
	h := sha256.Sum256([]byte("temper-sbom\n" + in.Name + "\n" + in.Arch + "\n" + in.Digest))
	return hex.EncodeToString(h[:])
}

// dependsOn returns, for each package name, the names it depends on
// (the inverse of the lock's required_by edges), sorted.
func dependsOn(pkgs []Package) map[string][]string {
	names := map[string]bool{}
	for _, p := range pkgs {
		names[p.Name] = true
	}
	deps := map[string][]string{}
	for _, p := range pkgs {
		for _, by := range p.RequiredBy {
			if names[by] && by != p.Name {
				deps[by] = append(deps[by], p.Name)
			}
		}
	}
	for k, v := range deps {
		sort.Strings(v)
		deps[k] = compact(v)
	}
	return deps
}

func compact(v []string) []string {
	out := v[:0]
	for i, s := range v {
		if i == 0 || s != v[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// roots are the packages the definition asked for.
func isRoot(p Package) bool {
	for _, by := range p.RequiredBy {
		if by == spec.ReservedRequiredBy {
			return true
		}
	}
	return false
}
