package evidence

import (
	"fmt"
	"time"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/vuln/openvex"
	"github.com/temper-dev/temper/internal/vuln/policy"
)

// openVEX is the OpenVEX document of the gate's scan, about the index
// (pkg:oci/NAME@DIGEST) with the SBOMs' package purls; nil without a
// scan. Its timestamp is the tracker data's fetch time: the statements
// are true as of that data, and a rebuild on newer data supersedes them.
func openVEX(in Input, idxDigest string, ev *Evidence) ([]byte, error) {
	g := in.Gate
	if g == nil || g.Image == nil {
		return nil, nil
	}
	opt := openvex.Options{Name: in.Def.Name, Digest: idxDigest, Timestamp: in.Created, Exceptions: g.Gate.Exceptions}
	if g.Data.Tracker != nil {
		opt.Timestamp = g.Data.Tracker.FetchedAt
	}
	for _, arch := range in.Def.Architectures {
		if d := ev.SBOMs[arch].Distro; d != "" {
			opt.Distro = d
			break
		}
	}
	doc, err := openvex.Document(g.Image, opt)
	if err != nil {
		return nil, fmt.Errorf("OpenVEX: %w", err)
	}
	return doc, nil
}

// vexAttestation signs the OpenVEX document as a statement about the
// index (predicate type https://openvex.dev/ns, what `cosign
// verify-attestation --type openvex` looks for).
func vexAttestation(in Input, idxDigest string, doc []byte) (attest.Layer, error) {
	st, err := attest.NewStatement(openvex.PredicateType, doc, attest.DigestSubject(in.Repo, idxDigest))
	if err != nil {
		return attest.Layer{}, err
	}
	layer, err := attest.AttestationLayer(in.Signer, openvex.PredicateType, st)
	if err != nil {
		return attest.Layer{}, fmt.Errorf("signing the OpenVEX document: %w", err)
	}
	return layer, nil
}

// skippedGate is the provenance's record of a gate skipped with
// --skip-gate --reason: the reason, and the violations it let through.
func skippedGate(g *policy.Outcome) map[string]any {
	rec := map[string]any{"skipped": true, "reason": g.Skipped}
	if g.Image == nil {
		rec["data"] = "none"
		return rec
	}
	ids := []string{}
	for _, v := range g.Gate.Violations {
		ids = append(ids, v.ID)
	}
	rec["violations"] = ids
	if t := g.Data.Tracker; t != nil {
		rec["tracker"] = map[string]string{"sha256": t.SHA256, "fetchedAt": t.FetchedAt.UTC().Format(time.RFC3339)}
	}
	return rec
}
