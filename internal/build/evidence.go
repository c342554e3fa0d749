package build

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/evidence"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/vuln/policy"
)

// EvidenceInput is what the evidence of a build of def from l records
// about it: the index, its SOURCE_DATE_EPOCH, build key and format. The
// caller adds the mirrors, the repository and the signer.
func EvidenceInput(def *spec.Definition, l *spec.Lock, idx v1.ImageIndex) evidence.Input {
	return evidence.Input{Def: def, Lock: l, Index: idx, Created: Epoch(l), BuildKey: BuildKey(def, l), FormatVersion: FormatVersion}
}

// attachEvidence is Build's last step: SBOM files, then, when signing, the
// signatures and attestations into the layout and to the registry.
func attachEvidence(ctx context.Context, def *spec.Definition, l *spec.Lock, idx v1.ImageIndex, gate *policy.Outcome, opt Options) error {
	if opt.Signer == nil && opt.SBOMDir == "" {
		return nil
	}
	in := EvidenceInput(def, l, idx)
	in.Repo, in.Signer, in.Gate = def.Name, opt.Signer, gate
	var r name.Repository
	if opt.Push != "" {
		var err error
		if r, err = attest.Repository(opt.Push); err != nil {
			return err
		}
		in.Repo = r.String()
	}
	if opt.Fetcher != nil {
		in.Mirrors = opt.Fetcher.Mirrors
	}
	ev, err := evidence.Make(in)
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
		vex := ""
		if ev.OpenVEX != nil {
			vex = " and OpenVEX"
		}
		fmt.Fprintf(opt.Log, "%s: signed %s and %d platform manifests; attached provenance%s and %d SBOMs\n", RefName(def), d, len(def.Architectures), vex, 2*len(def.Architectures))
	}
	return nil
}

// checkGate runs the vulnerability gate when the build publishes (pushes
// or signs) and a gate is set; the outcome goes into the evidence.
func checkGate(defPath string, def *spec.Definition, l *spec.Lock, opt Options) (*policy.Outcome, error) {
	if opt.Gate == nil || (opt.Push == "" && opt.Signer == nil) {
		return nil, nil
	}
	o, err := opt.Gate.Check(filepath.ToSlash(defPath), l)
	if err != nil {
		return nil, err
	}
	if opt.Log != nil {
		fmt.Fprintf(opt.Log, "%s: %s\n", RefName(def), o.Summary())
	}
	return o, nil
}
