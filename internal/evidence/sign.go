package evidence

import (
	"fmt"

	"github.com/temper-dev/temper/internal/attest"
)

// sign makes the signature and attestation images of a build, all before
// any is written: per platform its provenance and SBOM attestations and
// its signature; for the index every attestation, the OpenVEX one when
// there is a document, and, last, its signature.
func sign(in Input, idxDigest string, ev *Evidence) (*attest.Bundle, error) {
	provLayer, err := attest.AttestationLayer(in.Signer, attest.PredicateSLSA1, ev.Provenance)
	if err != nil {
		return nil, fmt.Errorf("signing the provenance: %w", err)
	}
	indexAtts := []attest.Layer{provLayer}
	b := &attest.Bundle{}
	for _, arch := range in.Def.Architectures {
		s := ev.SBOMs[arch]
		atts, err := sbomAttestations(in, idxDigest, arch, s)
		if err != nil {
			return nil, err
		}
		indexAtts = append(indexAtts, atts...)
		att, sig, err := artifacts(in, s.Digest, arch, append([]attest.Layer{provLayer}, atts...))
		if err != nil {
			return nil, err
		}
		b.Attestations = append(b.Attestations, att)
		b.Signatures = append(b.Signatures, sig)
	}
	if ev.OpenVEX != nil {
		vex, err := vexAttestation(in, idxDigest, ev.OpenVEX)
		if err != nil {
			return nil, err
		}
		indexAtts = append(indexAtts, vex)
	}
	att, sig, err := artifacts(in, idxDigest, "the index", indexAtts)
	if err != nil {
		return nil, err
	}
	b.Attestations = append(b.Attestations, att)
	b.Signatures = append(b.Signatures, sig) // last
	return b, nil
}

// sbomAttestations signs one architecture's SPDX and CycloneDX documents
// as statements about the index and the platform manifest.
func sbomAttestations(in Input, idxDigest, arch string, s SBOMs) ([]attest.Layer, error) {
	about := []attest.Subject{attest.DigestSubject(in.Repo, idxDigest), attest.DigestSubject(in.Repo, s.Digest)}
	var atts []attest.Layer
	for _, doc := range []struct {
		typ  string
		data []byte
	}{{attest.PredicateSPDX, s.SPDX}, {attest.PredicateCycloneDX, s.CycloneDX}} {
		st, err := attest.NewStatement(doc.typ, doc.data, about...)
		if err != nil {
			return nil, err
		}
		layer, err := attest.AttestationLayer(in.Signer, doc.typ, st)
		if err != nil {
			return nil, fmt.Errorf("signing the %s SBOM: %w", arch, err)
		}
		atts = append(atts, layer)
	}
	return atts, nil
}

// artifacts are digest's attestation image (atts) and signature image, in
// cosign's tags; what names digest in errors.
func artifacts(in Input, digest, what string, atts []attest.Layer) (att, sig attest.Artifact, err error) {
	attImg, err := attest.Image(atts)
	if err != nil {
		return att, sig, err
	}
	sigLayer, err := attest.SignatureLayer(in.Signer, in.Repo, digest)
	if err != nil {
		return att, sig, fmt.Errorf("signing %s: %w", what, err)
	}
	sigImg, err := attest.Image([]attest.Layer{sigLayer})
	if err != nil {
		return att, sig, err
	}
	return attest.Artifact{Tag: attest.AttTag(digest), Image: attImg}, attest.Artifact{Tag: attest.SigTag(digest), Image: sigImg}, nil
}
