package sbom

import (
	"bytes"
	"fmt"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// CycloneDX returns the CycloneDX 1.6 JSON BOM for one architecture's
// image. Components are referenced by their purl.
func CycloneDX(in Input) ([]byte, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	pkgs := in.packages(nil)
	root := cdxImage(in)
	id := in.docID()
	bom := cdx.NewBOM()
	bom.SerialNumber = "urn:uuid:" + id[0:8] + "-" + id[8:12] + "-5" + id[13:16] + "-8" + id[17:20] + "-" + id[20:32]
	bom.Metadata = &cdx.Metadata{
		Timestamp: in.created(),
		Tools:     &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: "temper", Version: strings.TrimPrefix(in.tool(), "temper-")}}},
		Component: &root,
	}
	var comps []cdx.Component
	for _, p := range pkgs {
		comps = append(comps, cdxComponent(p))
	}
	bom.Components = &comps
	dependencies := cdxDependencies(root.BOMRef, pkgs)
	bom.Dependencies = &dependencies
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON)
	enc.SetPretty(true).SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return nil, fmt.Errorf("sbom: cyclonedx %s %s: %w", in.Name, in.Arch, err)
	}
	return buf.Bytes(), nil
}

// cdxImage is the image's own component, referenced by its purl.
func cdxImage(in Input) cdx.Component {
	ref := in.imagePURL()
	return cdx.Component{
		BOMRef:     ref,
		Type:       cdx.ComponentTypeContainer,
		Name:       in.Name,
		Version:    in.Version,
		PackageURL: ref,
		Hashes:     &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: strings.TrimPrefix(in.Digest, "sha256:")}},
		Properties: &[]cdx.Property{
			{Name: "temper:debian:release", Value: in.Release},
			{Name: "temper:image:architecture", Value: in.Arch},
			{Name: "temper:image:digest", Value: in.Digest},
		},
	}
}

// cdxComponent is one installed .deb. Its distribution reference is
// where the build fetched it (Debian's mirror or the designated
// repository); a local_debs .deb, read from the catalog, has none.
func cdxComponent(p Package) cdx.Component {
	c := cdx.Component{
		BOMRef:     p.PURL,
		Type:       cdx.ComponentTypeLibrary,
		Name:       p.Name,
		Version:    p.Version,
		PackageURL: p.PURL,
		Hashes:     &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: p.SHA256}},
	}
	props := []cdx.Property{
		{Name: "temper:deb:architecture", Value: p.Architecture},
		{Name: "temper:deb:source", Value: p.Source},
		{Name: "temper:deb:source-version", Value: p.SourceVersion},
	}
	if p.Repository != "" {
		props = append(props, cdx.Property{Name: "temper:deb:repository", Value: p.Repository})
	}
	props = append(props, cdx.Property{Name: "temper:deb:suite", Value: p.Suite}, cdx.Property{Name: "temper:deb:filename", Value: p.Filename})
	c.Properties = &props
	if p.Maintainer != "" {
		c.Supplier = &cdx.OrganizationalEntity{Name: p.Maintainer}
	}
	if p.License != "NOASSERTION" {
		c.Licenses = &cdx.Licenses{{Expression: p.License}}
	}
	if p.URL != "" {
		c.ExternalReferences = &[]cdx.ExternalReference{{Type: cdx.ERTypeDistribution, URL: p.URL, Hashes: &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: p.SHA256}}}}
	}
	return c
}

// cdxDependencies says the image (rootRef) depends on the roots, and which
// package depends on which, by purl.
func cdxDependencies(rootRef string, pkgs []Package) []cdx.Dependency {
	refOf := map[string]string{}
	var rootDeps []string
	for _, p := range pkgs {
		refOf[p.Name] = p.PURL
		if isRoot(p) {
			rootDeps = append(rootDeps, p.PURL)
		}
	}
	deps := dependsOn(pkgs)
	dependencies := []cdx.Dependency{{Ref: rootRef, Dependencies: &rootDeps}}
	for _, p := range pkgs {
		d := cdx.Dependency{Ref: p.PURL}
		if names := deps[p.Name]; len(names) > 0 {
			refs := make([]string, len(names))
			for i, n := range names {
				refs[i] = refOf[n]
			}
			d.Dependencies = &refs
		}
		dependencies = append(dependencies, d)
	}
	return dependencies
}
