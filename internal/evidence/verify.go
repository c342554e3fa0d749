package evidence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/sbom"
)

// VerifyReport says what Verify checked.
type VerifyReport struct {
	Ref         string
	IndexDigest string
	Platforms   []PlatformReport
	// OpenVEX is the index's OpenVEX attestation, checked; nil when the
	// image has none (built without the vulnerability gate) or it failed.
	OpenVEX *VEXReport
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
// index has SLSA provenance, and its OpenVEX attestation, when it has one,
// is an OpenVEX document about the index; each platform has SPDX and
// CycloneDX SBOMs; and each platform's SPDX package list equals the image's own
// /var/lib/dpkg/status.d. Every failure is reported, named; the error
// joins them. It changes nothing in the registry.
func Verify(ctx context.Context, ref string, v *attest.Verifier, opts ...remote.Option) (*VerifyReport, error) {
	r, repo, err := parseRef(ref)
	if err != nil {
		return nil, err
	}
	c := &checker{ctx: ctx, repo: repo, key: v, opts: opts, pull: attest.RemoteOptions(ctx, opts...)}
	desc, err := remote.Get(r, c.pull...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	rep := &VerifyReport{Ref: ref, IndexDigest: desc.Digest.String()}
	targets, err := c.targets(desc, rep)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		if pr, ok := c.platform(t); ok {
			rep.Platforms = append(rep.Platforms, pr)
		}
	}
	return rep, errors.Join(c.fails...)
}

// parseRef parses ref and its repository; a loopback registry may be
// plain HTTP.
func parseRef(ref string) (name.Reference, name.Repository, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, name.Repository{}, fmt.Errorf("reference %q: %w", ref, err)
	}
	repo, err := attest.Repository(ref)
	if err != nil {
		return nil, name.Repository{}, err
	}
	if repo.Scheme() == "http" {
		if r, err = name.ParseReference(ref, name.Insecure); err != nil {
			return nil, name.Repository{}, err
		}
	}
	return r, repo, nil
}

// checker collects the failures of one Verify.
type checker struct {
	ctx   context.Context
	repo  name.Repository
	key   *attest.Verifier
	opts  []remote.Option // the caller's, for attest.Fetch
	pull  []remote.Option // with the context, for remote.Image
	fails []error
}

func (c *checker) fail(what string, err error) {
	c.fails = append(c.fails, fmt.Errorf("%s: %w", what, err))
}

// target is one platform manifest to check.
type target struct {
	arch string
	d    v1.Hash
}

// targets are the platform manifests of an index (whose own signature and
// provenance are checked here), or the single image ref names.
func (c *checker) targets(desc *remote.Descriptor, rep *VerifyReport) ([]target, error) {
	if !desc.MediaType.IsIndex() {
		return []target{{"", desc.Digest}}, nil
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var targets []target
	for _, md := range m.Manifests {
		arch := "?"
		if md.Platform != nil {
			arch = md.Platform.Architecture
		}
		targets = append(targets, target{arch, md.Digest})
	}
	what := "index " + desc.Digest.String()
	sts := c.signed(desc.Digest.String(), what, []string{attest.PredicateSLSA1})
	rep.OpenVEX = c.checkOpenVEX(sts, desc.Digest.String(), what)
	return targets, nil
}

// platform checks one platform manifest's signature and attestations and
// compares its SPDX SBOM with the image. ok is false when the check
// stopped before it could count the packages.
func (c *checker) platform(t target) (pr PlatformReport, ok bool) {
	what := t.arch + " " + t.d.String()
	pr = PlatformReport{Arch: t.arch, Digest: t.d.String()}
	sts := c.signed(t.d.String(), what, []string{attest.PredicateSLSA1, attest.PredicateSPDX, attest.PredicateCycloneDX})
	pr.Signatures = 1
	for _, st := range sts {
		pr.Predicates = append(pr.Predicates, st.PredicateType)
	}
	spdx := spdxAbout(sts, t.d.String())
	if spdx == nil {
		c.fail(what, errors.New("no SPDX SBOM describes this image"))
		return pr, true
	}
	listed, _, err := sbom.SPDXPackages(spdx)
	if err != nil {
		c.fail(what, err)
		return pr, false
	}
	pr.Packages = len(listed)
	img, err := remote.Image(c.repo.Digest(t.d.String()), c.pull...)
	if err != nil {
		c.fail(what, fmt.Errorf("pulling the image: %w", err))
		return pr, false
	}
	facts, err := sbom.ReadImage(img)
	if err != nil {
		c.fail(what, fmt.Errorf("reading the image: %w", err))
		return pr, false
	}
	for _, d := range sbom.Compare(listed, facts.Packages) {
		c.fail(what, errors.New("SBOM mismatch: "+d))
	}
	return pr, true
}

// spdxAbout returns the predicate of the last SPDX statement whose image
// package has digest, or nil: an SBOM of another image does not count.
func spdxAbout(sts []attest.VerifiedStatement, digest string) []byte {
	var spdx []byte
	for _, st := range sts {
		if st.PredicateType != attest.PredicateSPDX {
			continue
		}
		var p struct {
			Packages []struct {
				SPDXID    string
				Checksums []struct{ Algorithm, ChecksumValue string }
			}
		}
		json.Unmarshal(st.Statement.Predicate, &p)
		for _, pk := range p.Packages {
			for _, c := range pk.Checksums {
				if pk.SPDXID == sbom.SPDXImageID && "sha256:"+c.ChecksumValue == digest {
					spdx = st.Statement.Predicate
				}
			}
		}
	}
	return spdx
}

// signed verifies digest's signature and attestations and that the
// attestations include every predicate type in want.
func (c *checker) signed(digest, what string, want []string) []attest.VerifiedStatement {
	sigImg, err := attest.Fetch(c.ctx, c.repo, attest.SigTag(digest), c.opts...)
	if err != nil {
		c.fail(what, fmt.Errorf("signature: %w", err))
	} else if _, err := attest.VerifySignatures(sigImg, digest, c.key); err != nil {
		c.fail(what, fmt.Errorf("signature %s: %w", attest.SigTag(digest), err))
	}
	attImg, err := attest.Fetch(c.ctx, c.repo, attest.AttTag(digest), c.opts...)
	if err != nil {
		c.fail(what, fmt.Errorf("attestations: %w", err))
		return nil
	}
	sts, err := attest.VerifyAttestations(attImg, digest, c.key)
	if err != nil {
		c.fail(what, fmt.Errorf("attestations %s: %w", attest.AttTag(digest), err))
		return nil
	}
	have := map[string]bool{}
	for _, s := range sts {
		have[s.PredicateType] = true
	}
	for _, w := range want {
		if !have[w] {
			c.fail(what, fmt.Errorf("no %s attestation", w))
		}
	}
	return sts
}
