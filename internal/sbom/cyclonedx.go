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
	rootRef := in.imagePURL()
	root := cdx.Component{
		BOMRef:     rootRef,
		Type:       cdx.ComponentTypeContainer,
		Name:       in.Name,
		Version:    in.Version,
		PackageURL: rootRef,
		Hashes:     &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: strings.TrimPrefix(in.Digest, "sha256:")}},
		Properties: &[]cdx.Property{
			{Name: "temper:debian:release", Value: in.Release},
			{Name: "temper:image:architecture", Value: in.Arch},
			{Name: "temper:image:digest", Value: in.Digest},
		},
	}
	id := in.docID()
	bom := cdx.NewBOM()
	bom.SerialNumber = "urn:uuid:" + id[0:8] + "-" + id[8:12] + "-5" + id[13:16] + "-8" + id[17:20] + "-" + id[20:32]
	bom.Metadata = &cdx.Metadata{
		Timestamp: in.created(),
		Tools:     &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: "temper", Version: strings.TrimPrefix(in.tool(), "temper-")}}},
		Component: &root,
	}
	refOf := map[string]string{}
	var comps []cdx.Component
	for _, p := range pkgs {
		refOf[p.Name] = p.PURL
		c := cdx.Component{
			BOMRef:     p.PURL,
			Type:       cdx.ComponentTypeLibrary,
			Name:       p.Name,
			Version:    p.Version,
			PackageURL: p.PURL,
			Hashes:     &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: p.SHA256}},
			Properties: &[]cdx.Property{
				{Name: "temper:deb:architecture", Value: p.Architecture},
				{Name: "temper:deb:source", Value: p.Source},
				{Name: "temper:deb:source-version", Value: p.SourceVersion},
				{Name: "temper:deb:suite", Value: p.Suite},
				{Name: "temper:deb:filename", Value: p.Filename},
			},
		}
		if p.Maintainer != "" {
			c.Supplier = &cdx.OrganizationalEntity{Name: p.Maintainer}
		}
		if p.License != "NOASSERTION" {
			c.Licenses = &cdx.Licenses{{Expression: p.License}}
		}
		if p.URL != "" {
			c.ExternalReferences = &[]cdx.ExternalReference{{Type: cdx.ERTypeDistribution, URL: p.URL, Hashes: &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: p.SHA256}}}}
		}
		comps = append(comps, c)
	}
	bom.Components = &comps
	deps := dependsOn(pkgs)
	var rootDeps []string
	for _, p := range pkgs {
		if isRoot(p) {
			rootDeps = append(rootDeps, p.PURL)
		}
	}
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
	bom.Dependencies = &dependencies
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON)
	enc.SetPretty(true).SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return nil, fmt.Errorf("sbom: cyclonedx %s %s: %w", in.Name, in.Arch, err)
	}
	return buf.Bytes(), nil
}
