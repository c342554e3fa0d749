package evidence

import (
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/about"
	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/sbom"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/vuln/policy"
)

// Input is a built image index and what the evidence records about the
// build that made it.
type Input struct {
	Def   *spec.Definition
	Lock  *spec.Lock
	Index v1.ImageIndex
	// Created is the build's SOURCE_DATE_EPOCH, the SBOMs' creation time.
	Created time.Time
	// BuildKey and FormatVersion identify the build in the provenance.
	BuildKey, FormatVersion string
	// Mirrors give the download locations of Debian's .debs; those of a
	// designated repository's are below its URL in the lock, and
	// local_debs are read from the catalog.
	Mirrors archive.Mirrors
	// Repo is the repository the image is (or will be) published in; it
	// names the statements' subjects.
	Repo string
	// Signer, when set, signs; without it Make computes only the SBOMs
	// and the provenance.
	Signer *attest.Signer
	// Gate is what the vulnerability gate decided before the build (nil:
	// it did not run). Its scan becomes the OpenVEX document; a skipped
	// gate's reason is recorded in the provenance.
	Gate *policy.Outcome
}

// Evidence is what one build produced besides the image.
type Evidence struct {
	// SBOMs maps an architecture to its documents.
	SBOMs map[string]SBOMs
	// Provenance is the in-toto statement (SLSA Provenance v1).
	Provenance []byte
	// OpenVEX is the image's OpenVEX document, from the gate's scan; nil
	// when the gate did not run or had no data (vex.go).
	OpenVEX []byte
	// Bundle holds the signature and attestation images (nil unsigned).
	Bundle *attest.Bundle
}

// SBOMs are one architecture's documents.
type SBOMs struct {
	Digest    string // the platform manifest's digest
	Distro    string // the purl distro qualifier, e.g. "debian-12.13"
	SPDX      []byte
	CycloneDX []byte
}

// Make computes the SBOMs and the provenance of a built index and, with a
// signer, signs the index and each platform manifest and wraps the SBOMs
// and provenance in signed attestations (sign.go). Nothing is written:
// everything is computed before anything is published.
func Make(in Input) (*Evidence, error) {
	idxDigest, err := in.Index.Digest()
	if err != nil {
		return nil, err
	}
	ev := &Evidence{SBOMs: map[string]SBOMs{}}
	subjects := []attest.Subject{attest.DigestSubject(in.Repo, idxDigest.String())}
	for _, arch := range in.Def.Architectures {
		s, err := platformSBOMs(in, arch)
		if err != nil {
			return nil, err
		}
		ev.SBOMs[arch] = s
		subjects = append(subjects, attest.DigestSubject(in.Repo, s.Digest))
	}
	if ev.Provenance, err = provenance(in, subjects); err != nil {
		return nil, err
	}
	if ev.OpenVEX, err = openVEX(in, idxDigest.String(), ev); err != nil {
		return nil, err
	}
	if in.Signer == nil {
		return ev, nil
	}
	if ev.Bundle, err = sign(in, idxDigest.String(), ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// platformSBOMs computes one architecture's SBOMs from the lock and what
// the image's own layers say about its packages.
func platformSBOMs(in Input, arch string) (SBOMs, error) {
	img, err := oci.ImageFor(in.Index, arch)
	if err != nil {
		return SBOMs{}, err
	}
	d, err := img.Digest()
	if err != nil {
		return SBOMs{}, err
	}
	facts, err := sbom.ReadImage(img)
	if err != nil {
		return SBOMs{}, fmt.Errorf("%s: %w", arch, err)
	}
	sin := sbom.Input{
		Name: in.Def.Name, Version: in.Def.Version, Release: in.Lock.Release, Arch: arch, Digest: d.String(),
		Packages: in.Lock.Architectures[arch].Packages, Mirrors: in.Mirrors, Repositories: in.Lock.Repositories, Facts: facts,
		Created: in.Created, Tool: "temper-" + about.Version(),
	}
	if strings.Contains(in.Repo, "/") {
		sin.Repository = in.Repo
	}
	s := SBOMs{Digest: d.String(), Distro: facts.Distro}
	if s.SPDX, err = sbom.SPDX(sin); err != nil {
		return SBOMs{}, err
	}
	if s.CycloneDX, err = sbom.CycloneDX(sin); err != nil {
		return SBOMs{}, err
	}
	return s, nil
}

// provenance is the SLSA Provenance v1 statement about subjects.
func provenance(in Input, subjects []attest.Subject) ([]byte, error) {
	def, l := in.Def, in.Lock
	prov := attest.NewProvenance(attest.ProvenanceInput{
		DefinitionFile: l.Definition.File, DefinitionSHA256: def.SHA256,
		LockFile: filepath.Base(def.LockPath()), LockSHA256: l.Digest(),
		Release: l.Release, Architectures: def.Architectures,
		BuildKey: in.BuildKey, FormatVersion: in.FormatVersion,
		Dependencies: dependencies(in), BuilderVersion: about.Version(),
	})
	if g := in.Gate; g != nil && g.Skipped != "" {
		prov.BuildDefinition.ExternalParameters["vulnerabilityGate"] = skippedGate(g)
	}
	predicate, err := json.Marshal(prov)
	if err != nil {
		return nil, err
	}
	return attest.NewStatement(attest.PredicateSLSA1, predicate, subjects...)
}

// dependencies are the .debs of every architecture, each once, by file
// name, each with the URI it was fetched from: Debian's mirror, or the
// designated repository's URL and the package's Filename. A local_debs
// .deb was read from the catalog, not fetched: it has no URI, and its
// name is its path relative to the definition. Packages not Debian's are
// annotated with their repository ("local" for local_debs).
func dependencies(in Input) []attest.ResourceDescriptor {
	var deps []attest.ResourceDescriptor
	seen := map[string]bool{}
	for _, arch := range in.Def.Architectures {
		for _, p := range in.Lock.Architectures[arch].Packages {
			if seen[p.SHA256] {
				continue
			}
			seen[p.SHA256] = true
			o := sbom.PackageOrigin(in.Mirrors, in.Lock.Repositories, p)
			d := attest.ResourceDescriptor{URI: o.URL, Name: path.Base(p.Filename), Digest: map[string]string{"sha256": p.SHA256}}
			if p.Repository == spec.LocalRepository {
				d.Name = p.Filename
			}
			if p.Repository != "" {
				d.Annotations = map[string]any{"repository": p.Repository}
			}
			deps = append(deps, d)
		}
	}
	sort.Slice(deps, func(i, j int) bool {
		a, b := deps[i], deps[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.URI != b.URI {
			return a.URI < b.URI
		}
		return a.Digest["sha256"] < b.Digest["sha256"]
	})
	return deps
}
