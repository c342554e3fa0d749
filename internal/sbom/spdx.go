package sbom

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// SPDX element identifiers of the document and the image.
const (
	SPDXDocumentID = "SPDXRef-DOCUMENT"
	SPDXImageID    = "SPDXRef-image"
)

// SPDXNamespacePrefix starts every document namespace temper writes; the
// rest is the image name, architecture and a digest-derived id.
const SPDXNamespacePrefix = "https://temper-dev.github.io/spdx/"

// SPDX returns the SPDX 2.3 JSON document for one architecture's image.
func SPDX(in Input) ([]byte, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	refs := map[string]string{}
	pkgs := in.packages(refs)
	doc := spdxDocument(in)
	ids := map[string]string{}
	for _, p := range pkgs {
		id := spdxPackageID(p)
		ids[p.Name] = id
		doc.Packages = append(doc.Packages, spdxPackage(p, id))
	}
	doc.Relationships = append(doc.Relationships, spdxRelationships(pkgs, ids)...)
	doc.OtherLicenses = spdxOtherLicenses(refs)
	var buf bytes.Buffer
	if err := spdxjson.Write(doc, &buf, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
		return nil, fmt.Errorf("sbom: spdx %s %s: %w", in.Name, in.Arch, err)
	}
	return buf.Bytes(), nil
}

// spdxDocument is the document describing the image, without its
// packages.
func spdxDocument(in Input) *spdx.Document {
	root := &spdx.Package{
		PackageName:             in.Name,
		PackageSPDXIdentifier:   common.ElementID(strings.TrimPrefix(SPDXImageID, "SPDXRef-")),
		PackageVersion:          in.Version,
		PackageDownloadLocation: "NOASSERTION",
		PackageSupplier:         &common.Supplier{Supplier: "NOASSERTION"},
		PackageChecksums:        []common.Checksum{{Algorithm: common.SHA256, Value: strings.TrimPrefix(in.Digest, "sha256:")}},
		PackageLicenseConcluded: "NOASSERTION",
		PackageLicenseDeclared:  "NOASSERTION",
		PackageCopyrightText:    "NOASSERTION",
		PackageSummary:          fmt.Sprintf("temper image %s:%s (Debian %s, %s)", in.Name, in.Version, in.Release, in.Arch),
		PrimaryPackagePurpose:   "CONTAINER",
		PackageExternalReferences: []*spdx.PackageExternalReference{
			{Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: in.imagePURL()},
		},
	}
	return &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    common.ElementID(strings.TrimPrefix(SPDXDocumentID, "SPDXRef-")),
		DocumentName:      in.Name + ":" + in.Version + "-" + in.Arch,
		DocumentNamespace: SPDXNamespacePrefix + in.Name + "/" + in.Arch + "/" + in.docID(),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: in.tool()}, {CreatorType: "Organization", Creator: "temper"}},
			Created:  in.created(),
		},
		Packages: []*spdx.Package{root},
		Relationships: []*spdx.Relationship{{
			RefA: common.MakeDocElementID("", "DOCUMENT"), RefB: common.MakeDocElementID("", "image"), Relationship: common.TypeRelationshipDescribe,
		}},
	}
}

// spdxPackage is one installed .deb. Its downloadLocation is where the
// build fetched it (Debian's mirror or the designated repository),
// NOASSERTION when that is unknown and for a local_debs .deb, which was
// read from the catalog.
func spdxPackage(p Package, id string) *spdx.Package {
	loc := p.URL
	if loc == "" {
		loc = "NOASSERTION"
	}
	return &spdx.Package{
		PackageName:             p.Name,
		PackageSPDXIdentifier:   common.ElementID(id),
		PackageVersion:          p.Version,
		PackageFileName:         baseName(p.Filename),
		PackageSupplier:         supplier(p.Maintainer),
		PackageDownloadLocation: loc,
		PackageChecksums:        []common.Checksum{{Algorithm: common.SHA256, Value: p.SHA256}},
		PackageSourceInfo:       fmt.Sprintf("built package from: %s %s", p.Source, p.SourceVersion),
		PackageLicenseConcluded: "NOASSERTION",
		PackageLicenseDeclared:  p.License,
		PackageCopyrightText:    "NOASSERTION",
		PackageComment:          spdxComment(p),
		PrimaryPackagePurpose:   "LIBRARY",
		PackageExternalReferences: []*spdx.PackageExternalReference{
			{Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: p.PURL},
		},
	}
}

// spdxComment names the package's architecture and suite and, for a
// package not Debian's, the designated repository (or "local" for
// local_debs) it was taken from.
func spdxComment(p Package) string {
	if p.Repository != "" {
		return fmt.Sprintf("architecture: %s; repository: %s; suite: %s", p.Architecture, p.Repository, p.Suite)
	}
	return fmt.Sprintf("architecture: %s; suite: %s", p.Architecture, p.Suite)
}

// spdxRelationships says the image contains every package and depends on
// the roots, and which package depends on which, in this order.
func spdxRelationships(pkgs []Package, ids map[string]string) []*spdx.Relationship {
	var out []*spdx.Relationship
	rel := func(a, b string, typ string) {
		out = append(out, &spdx.Relationship{RefA: common.MakeDocElementID("", a), RefB: common.MakeDocElementID("", b), Relationship: typ})
	}
	for _, p := range pkgs {
		rel("image", ids[p.Name], common.TypeRelationshipContains)
	}
	for _, p := range pkgs {
		if isRoot(p) {
			rel("image", ids[p.Name], common.TypeRelationshipDependsOn)
		}
	}
	deps := dependsOn(pkgs)
	for _, p := range pkgs {
		for _, d := range deps[p.Name] {
			rel(ids[p.Name], ids[d], common.TypeRelationshipDependsOn)
		}
	}
	return out
}

// spdxOtherLicenses declares the LicenseRef- ids used for license names
// SPDX does not know, sorted by id.
func spdxOtherLicenses(refs map[string]string) []*spdx.OtherLicense {
	refIDs := make([]string, 0, len(refs))
	for id := range refs {
		refIDs = append(refIDs, id)
	}
	sort.Strings(refIDs)
	var out []*spdx.OtherLicense
	for _, id := range refIDs {
		out = append(out, &spdx.OtherLicense{
			LicenseIdentifier: id,
			LicenseName:       refs[id],
			ExtractedText:     fmt.Sprintf("The license Debian's machine-readable copyright files call %q; its text is in the package's /usr/share/doc/<package>/copyright.", refs[id]),
		})
	}
	return out
}

// spdxPackageID is "deb-<name>-<12 hex of the .deb's sha256>" with
// characters SPDX ids do not allow replaced by "-" (the digest keeps it
// unique).
func spdxPackageID(p Package) string {
	var b strings.Builder
	b.WriteString("deb-")
	for _, r := range p.Name {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	sum := p.SHA256
	if len(sum) > 12 {
		sum = sum[:12]
	}
	b.WriteString("-" + sum)
	return b.String()
}

// supplier turns a Maintainer field into an SPDX supplier: teams and lists
// are organizations, the rest persons.
func supplier(m string) *common.Supplier {
	if m == "" {
		return &common.Supplier{Supplier: "NOASSERTION"}
	}
	l := strings.ToLower(m)
	if strings.Contains(l, "team") || strings.Contains(l, "maintainers") || strings.Contains(l, "group") || strings.Contains(l, "lists.") {
		return &common.Supplier{Supplier: m, SupplierType: "Organization"}
	}
	return &common.Supplier{Supplier: m, SupplierType: "Person"}
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
