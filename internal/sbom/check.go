package sbom

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Listed is one package an SBOM lists.
type Listed struct {
	Name, Version string
}

// SPDXPackages reads the Debian packages an SPDX JSON document lists (the
// packages with a pkg:deb purl; the image root is not one) and the
// image digest its root element carries.
func SPDXPackages(data []byte) ([]Listed, string, error) {
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []struct {
			SPDXID       string `json:"SPDXID"`
			Name         string `json:"name"`
			VersionInfo  string `json:"versionInfo"`
			Checksums    []struct{ Algorithm, ChecksumValue string }
			ExternalRefs []struct {
				ReferenceType, ReferenceLocator string
			} `json:"externalRefs"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, "", fmt.Errorf("sbom: not an SPDX JSON document: %w", err)
	}
	if doc.SPDXVersion != "SPDX-2.3" {
		return nil, "", fmt.Errorf("sbom: spdxVersion %q, want SPDX-2.3", doc.SPDXVersion)
	}
	var out []Listed
	digest := ""
	for _, p := range doc.Packages {
		if p.SPDXID == SPDXImageID {
			for _, c := range p.Checksums {
				if c.Algorithm == "SHA256" {
					digest = "sha256:" + c.ChecksumValue
				}
			}
			continue
		}
		for _, r := range p.ExternalRefs {
			if r.ReferenceType == "purl" && strings.HasPrefix(r.ReferenceLocator, "pkg:deb/") {
				out = append(out, Listed{Name: p.Name, Version: p.VersionInfo})
				break
			}
		}
	}
	return out, digest, nil
}

// Compare checks an SBOM's package list against the packages an image's
// status.d holds. It returns one line per difference, naming the package:
// listed but not installed, installed but not listed, or a different
// version. No lines means they are equal.
func Compare(listed []Listed, installed map[string]PackageFacts) []string {
	var diffs []string
	seen := map[string]bool{}
	for _, l := range listed {
		if seen[l.Name] {
			diffs = append(diffs, fmt.Sprintf("%s is listed twice in the SBOM", l.Name))
			continue
		}
		seen[l.Name] = true
		f, ok := installed[l.Name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s %s is in the SBOM but not in the image's /var/lib/dpkg/status.d", l.Name, l.Version))
		case f.Version != l.Version:
			diffs = append(diffs, fmt.Sprintf("%s: the SBOM says %s, the image's /var/lib/dpkg/status.d/%s says %s", l.Name, l.Version, l.Name, f.Version))
		}
	}
	var extra []string
	for name, f := range installed {
		if !seen[name] {
			extra = append(extra, fmt.Sprintf("%s %s is in the image's /var/lib/dpkg/status.d but not in the SBOM", name, f.Version))
		}
	}
	sort.Strings(extra)
	return append(diffs, extra...)
}
