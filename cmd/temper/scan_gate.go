package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/vuln"
	"github.com/temper-dev/temper/internal/vuln/policy"
)

// gateFlags are build's vulnerability gate flags: scan's data and policy
// flags, and the way past the gate.
type gateFlags struct {
	scan     scanFlags
	skipGate bool
	reason   string
}

func addGateFlags(cmd *cobra.Command, f *gateFlags) {
	fl := cmd.Flags()
	fl.BoolVar(&f.skipGate, "skip-gate", false, "publish even if the vulnerability gate refuses (needs --reason, recorded in the provenance)")
	fl.StringVar(&f.reason, "reason", "", "why the gate is skipped (with --skip-gate)")
	fl.StringVar(&f.scan.policyFile, "policy", "", "policy YAML `FILE` for the gate instead of temper.yaml's")
	fl.StringArrayVar(&f.scan.exceptions, "exceptions", nil, "exceptions `FILE` for the gate, in addition to the catalog-wide one")
	fl.StringVar(&f.scan.files.Tracker, "tracker", "", "security tracker JSON `FILE` for the gate instead of the copy `temper vuln update` kept")
	fl.StringVar(&f.scan.files.KEV, "kev", "", "CISA KEV JSON `FILE` for the gate instead of the kept copy")
	fl.StringVar(&f.scan.files.EPSS, "epss", "", "EPSS CSV `FILE` for the gate instead of the kept copy")
	fl.BoolVar(&f.scan.allowStale, "allow-stale", false, "let the gate decide on data older than the policy's max_age")
}

// buildGate sets opt.Gate when the build publishes (--push or
// --sign-key): the same data, policy and exceptions as temper scan.
func buildGate(g *globalFlags, f gateFlags, opt *build.Options, signing bool) error {
	if f.skipGate != (f.reason != "") {
		return usageError{errors.New("--skip-gate and --reason TEXT go together")}
	}
	if opt.Push == "" && !signing {
		if f.skipGate {
			return usageError{errors.New("--skip-gate applies to --push and --sign-key builds only")}
		}
		return nil
	}
	pol, exc, err := scanPolicy(g, f.scan)
	if err != nil {
		return err
	}
	c, err := g.cache()
	if err != nil {
		return err
	}
	now := g.now()
	load := func() (*vuln.DB, error) { return vuln.Load(c, f.scan.files, now) }
	opt.Gate, err = policy.NewBuildGate(load, pol, exc, now, f.scan.allowStale, f.reason)
	return err
}
