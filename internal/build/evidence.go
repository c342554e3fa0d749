package build

// Evidence: the SBOMs, provenance and signatures a build attaches to its
// image (internal/sbom, internal/attest), and the check `temper verify`
// runs on a published image.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/temper-dev/temper/internal/about"
	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/sbom"
	"github.com/temper-dev/temper/internal/spec"
)

// Evidence is what one build produced besides the image.
type Evidence struct {
	// SBOMs maps an architecture to its documents.
	SBOMs map[string]SBOMs
	// Provenance is the in-toto statement (SLSA Provenance v1).
	Provenance []byte
	// Bundle holds the signature and attestation images (nil unsigned).
	Bundle *attest.Bundle
}

// SBOMs are one architecture's documents.
type SBOMs struct {
	Digest    string // the platform manifest's digest
	SPDX      []byte
	CycloneDX []byte
}

// MakeEvidence computes the SBOMs and the provenance of a built index and,
// with a signer, signs the index and each platform manifest and wraps the
// SBOMs and provenance in signed attestations. repo is the repository the
// image is (or will be) published in; it names the statements' subjects.
// Nothing is written: everything is computed before anything is
// published.
func MakeEvidence(def *spec.Definition, l *spec.Lock, idx v1.ImageIndex, mirrors archive.Mirrors, repo string, signer *attest.Signer) (*Evidence, error) {
	idxDigest, err := idx.Digest()
	if err != nil {
		return nil, err
	}
	ev := &Evidence{SBOMs: map[string]SBOMs{}}
	subjects := []attest.Subject{attest.DigestSubject(repo, idxDigest.String())}
	var deps []attest.ResourceDescriptor
	seen := map[string]bool{}
	for _, arch := range def.Architectures {
		img, err := oci.ImageFor(idx, arch)
		if err != nil {
			return nil, err
		}
		d, err := img.Digest()
		if err != nil {
			return nil, err
		}
		facts, err := imageFacts(img)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", arch, err)
		}
		in := sbom.Input{
			Name: def.Name, Version: def.Version, Release: l.Release, Arch: arch, Digest: d.String(),
			Packages: l.Architectures[arch].Packages, Mirrors: mirrors, Facts: facts,
			Created: Epoch(l), Tool: "temper-" + about.Version(),
		}
		if strings.Contains(repo, "/") {
			in.Repository = repo
		}
		var s SBOMs
		s.Digest = d.String()
		if s.SPDX, err = sbom.SPDX(in); err != nil {
			return nil, err
		}
		if s.CycloneDX, err = sbom.CycloneDX(in); err != nil {
			return nil, err
		}
		ev.SBOMs[arch] = s
		subjects = append(subjects, attest.DigestSubject(repo, d.String()))
		for _, p := range l.Architectures[arch].Packages {
			if seen[p.SHA256] {
				continue
			}
			seen[p.SHA256] = true
			deps = append(deps, attest.ResourceDescriptor{URI: sbom.DownloadURL(mirrors, p), Name: path.Base(p.Filename), Digest: map[string]string{"sha256": p.SHA256}})
		}
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].Name < deps[j].Name })
	prov := attest.NewProvenance(attest.ProvenanceInput{
		DefinitionFile: l.Definition.File, DefinitionSHA256: def.SHA256,
		LockFile: filepath.Base(def.LockPath()), LockSHA256: l.Digest(),
		Release: l.Release, Architectures: def.Architectures,
		BuildKey: BuildKey(def, l), FormatVersion: FormatVersion,
		Dependencies: deps, BuilderVersion: about.Version(),
	})
	predicate, err := json.Marshal(prov)
	if err != nil {
		return nil, err
	}
	if ev.Provenance, err = attest.NewStatement(attest.PredicateSLSA1, predicate, subjects...); err != nil {
		return nil, err
	}
	if signer == nil {
		return ev, nil
	}

	// Sign: every attestation and signature is made before any is written.
	provLayer, err := attest.AttestationLayer(signer, attest.PredicateSLSA1, ev.Provenance)
	if err != nil {
		return nil, fmt.Errorf("signing the provenance: %w", err)
	}
	indexAtts := []attest.Layer{provLayer}
	b := &attest.Bundle{}
	for _, arch := range def.Architectures {
		s := ev.SBOMs[arch]
		about := []attest.Subject{attest.DigestSubject(repo, idxDigest.String()), attest.DigestSubject(repo, s.Digest)}
		var atts []attest.Layer
		for _, doc := range []struct {
			typ  string
			data []byte
		}{{attest.PredicateSPDX, s.SPDX}, {attest.PredicateCycloneDX, s.CycloneDX}} {
			st, err := attest.NewStatement(doc.typ, doc.data, about...)
			if err != nil {
				return nil, err
			}
			layer, err := attest.AttestationLayer(signer, doc.typ, st)
			if err != nil {
				return nil, fmt.Errorf("signing the %s SBOM: %w", arch, err)
			}
			atts = append(atts, layer)
		}
		indexAtts = append(indexAtts, atts...)
		attImg, err := attest.Image(append([]attest.Layer{provLayer}, atts...))
		if err != nil {
			return nil, err
		}
		b.Attestations = append(b.Attestations, attest.Artifact{Tag: attest.AttTag(s.Digest), Image: attImg})
		sig, err := attest.SignatureLayer(signer, repo, s.Digest)
		if err != nil {
			return nil, fmt.Errorf("signing %s: %w", arch, err)
		}
		sigImg, err := attest.Image([]attest.Layer{sig})
		if err != nil {
			return nil, err
		}
		b.Signatures = append(b.Signatures, attest.Artifact{Tag: attest.SigTag(s.Digest), Image: sigImg})
	}
	attImg, err := attest.Image(indexAtts)
	if err != nil {
		return nil, err
	}
	b.Attestations = append(b.Attestations, attest.Artifact{Tag: attest.AttTag(idxDigest.String()), Image: attImg})
	sig, err := attest.SignatureLayer(signer, repo, idxDigest.String())
	if err != nil {
		return nil, fmt.Errorf("signing the index: %w", err)
	}
	sigImg, err := attest.Image([]attest.Layer{sig})
	if err != nil {
		return nil, err
	}
	b.Signatures = append(b.Signatures, attest.Artifact{Tag: attest.SigTag(idxDigest.String()), Image: sigImg}) // last
	ev.Bundle = b
	return ev, nil
}

// imageFacts reads what the image's layers say about its packages.
func imageFacts(img v1.Image) (*sbom.Facts, error) {
	ls, err := img.Layers()
	if err != nil {
		return nil, err
	}
	all := &sbom.Facts{Packages: map[string]sbom.PackageFacts{}}
	for _, l := range ls {
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, err
		}
		f, err := sbom.ReadLayer(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		if f.Distro != "" {
			all.Distro = f.Distro
		}
		for k, v := range f.Packages {
			all.Packages[k] = v
		}
	}
	return all, nil
}

// SBOMFileNames are the files WriteSBOMs writes for an architecture.
func SBOMFileNames(def *spec.Definition, arch string) (spdx, cdx string) {
	base := def.Name + "-" + def.Version + "-" + arch
	return base + ".spdx.json", base + ".cdx.json"
}

// WriteSBOMs writes each architecture's SPDX and CycloneDX documents into
// dir.
func (ev *Evidence) WriteSBOMs(dir string, def *spec.Definition) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for arch, s := range ev.SBOMs {
		spdx, cdx := SBOMFileNames(def, arch)
		if err := os.WriteFile(filepath.Join(dir, spdx), s.SPDX, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, cdx), s.CycloneDX, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// evidence is Build's last step: SBOM files, then, when signing, the
// signatures and attestations into the layout and to the registry.
func evidence(ctx context.Context, def *spec.Definition, l *spec.Lock, idx v1.ImageIndex, opt Options) error {
	if opt.Signer == nil && opt.SBOMDir == "" {
		return nil
	}
	repo := def.Name
	var r name.Repository
	if opt.Push != "" {
		var err error
		if r, err = attest.Repository(opt.Push); err != nil {
			return err
		}
		repo = r.String()
	}
	var mirrors archive.Mirrors
	if opt.Fetcher != nil {
		mirrors = opt.Fetcher.Mirrors
	}
	ev, err := MakeEvidence(def, l, idx, mirrors, repo, opt.Signer)
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if opt.SBOMDir != "" {
		if err := ev.WriteSBOMs(opt.SBOMDir, def); err != nil {
			return fmt.Errorf("writing SBOMs: %w", err)
		}
	}
	if ev.Bundle == nil {
		return nil
	}
	if opt.Output != "" {
		if err := ev.Bundle.WriteLayout(opt.Output, def.Name); err != nil {
			return err
		}
	}
	if opt.Push != "" {
		if err := ev.Bundle.Push(ctx, r, opt.Remote...); err != nil {
			return err
		}
	}
	if opt.Log != nil {
		d, _ := idx.Digest()
		fmt.Fprintf(opt.Log, "%s: signed %s and %d platform manifests; attached provenance and %d SBOMs\n", RefName(def), d, len(def.Architectures), 2*len(def.Architectures))
	}
	return nil
}

// VerifyReport says what Verify checked.
type VerifyReport struct {
	Ref         string
	IndexDigest string
	Platforms   []PlatformReport
}

// PlatformReport is one platform manifest's checks.
type PlatformReport struct {
	Arch, Digest string
	Signatures   int
	Predicates   []string
	Packages     int
}

// Verify checks a published image against a public key, as `temper
// verify` does: the index and every platform manifest carry a signature by
// the key; their attestations all verify with it and are about them; the
// index has SLSA provenance; each platform has SPDX and CycloneDX SBOMs;
// and each platform's SPDX package list equals the image's own
// /var/lib/dpkg/status.d. Every failure is reported, named; the error
// joins them.
func Verify(ctx context.Context, ref string, v *attest.Verifier, opts ...remote.Option) (*VerifyReport, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("reference %q: %w", ref, err)
	}
	repo, err := attest.Repository(ref)
	if err != nil {
		return nil, err
	}
	if repo.Scheme() == "http" {
		if r, err = name.ParseReference(ref, name.Insecure); err != nil {
			return nil, err
		}
	}
	all := attest.RemoteOptions(ctx, opts...)
	desc, err := remote.Get(r, all...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	rep := &VerifyReport{Ref: ref, IndexDigest: desc.Digest.String()}
	var fails []error
	fail := func(what string, err error) { fails = append(fails, fmt.Errorf("%s: %w", what, err)) }

	type target struct {
		arch string
		d    v1.Hash
	}
	var targets []target
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, err
		}
		m, err := idx.IndexManifest()
		if err != nil {
			return nil, err
		}
		for _, md := range m.Manifests {
			arch := "?"
			if md.Platform != nil {
				arch = md.Platform.Architecture
			}
			targets = append(targets, target{arch, md.Digest})
		}
		checkSigned(ctx, repo, desc.Digest.String(), "index "+desc.Digest.String(), v, []string{attest.PredicateSLSA1}, fail, opts)
	} else {
		targets = append(targets, target{"", desc.Digest})
	}
	for _, t := range targets {
		what := t.arch + " " + t.d.String()
		pr := PlatformReport{Arch: t.arch, Digest: t.d.String()}
		sts := checkSigned(ctx, repo, t.d.String(), what, v, []string{attest.PredicateSLSA1, attest.PredicateSPDX, attest.PredicateCycloneDX}, fail, opts)
		pr.Signatures = 1
		var spdx []byte
		for _, st := range sts {
			pr.Predicates = append(pr.Predicates, st.PredicateType)
			if st.PredicateType == attest.PredicateSPDX {
				about := false
				var p struct {
					Packages []struct {
						SPDXID    string
						Checksums []struct{ Algorithm, ChecksumValue string }
					}
				}
				json.Unmarshal(st.Statement.Predicate, &p)
				for _, pk := range p.Packages {
					for _, c := range pk.Checksums {
						if pk.SPDXID == sbom.SPDXImageID && "sha256:"+c.ChecksumValue == t.d.String() {
							about = true
						}
					}
				}
				if about {
					spdx = st.Statement.Predicate
				}
			}
		}
		if spdx == nil {
			fail(what, errors.New("no SPDX SBOM describes this image"))
			rep.Platforms = append(rep.Platforms, pr)
			continue
		}
		listed, _, err := sbom.SPDXPackages(spdx)
		if err != nil {
			fail(what, err)
			continue
		}
		pr.Packages = len(listed)
		img, err := remote.Image(repo.Digest(t.d.String()), all...)
		if err != nil {
			fail(what, fmt.Errorf("pulling the image: %w", err))
			continue
		}
		facts, err := imageFacts(img)
		if err != nil {
			fail(what, fmt.Errorf("reading the image: %w", err))
			continue
		}
		for _, d := range sbom.Compare(listed, facts.Packages) {
			fail(what, errors.New("SBOM mismatch: "+d))
		}
		rep.Platforms = append(rep.Platforms, pr)
	}
	return rep, errors.Join(fails...)
}

// checkSigned verifies digest's signature and attestations and that the
// attestations include every predicate type in want.
func checkSigned(ctx context.Context, repo name.Repository, digest, what string, v *attest.Verifier, want []string, fail func(string, error), opts []remote.Option) []attest.VerifiedStatement {
	sigImg, err := attest.Fetch(ctx, repo, attest.SigTag(digest), opts...)
	if err != nil {
		fail(what, fmt.Errorf("signature: %w", err))
	} else if _, err := attest.VerifySignatures(sigImg, digest, v); err != nil {
		fail(what, fmt.Errorf("signature %s: %w", attest.SigTag(digest), err))
	}
	attImg, err := attest.Fetch(ctx, repo, attest.AttTag(digest), opts...)
	if err != nil {
		fail(what, fmt.Errorf("attestations: %w", err))
		return nil
	}
	sts, err := attest.VerifyAttestations(attImg, digest, v)
	if err != nil {
		fail(what, fmt.Errorf("attestations %s: %w", attest.AttTag(digest), err))
		return nil
	}
	have := map[string]bool{}
	for _, s := range sts {
		have[s.PredicateType] = true
	}
	for _, w := range want {
		if !have[w] {
			fail(what, fmt.Errorf("no %s attestation", w))
		}
	}
	return sts
}
