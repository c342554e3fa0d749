package policy

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/vuln"
)

// BuildGate is the gate `temper build --push` and `--sign-key` run before
// they publish: the scan of each lock judged by the policy. SkipReason
// (--skip-gate --reason) lets an image through whatever the gate says;
// the evidence records the reason in the provenance.
type BuildGate struct {
	DB         *vuln.DB // nil: no data was available (only with SkipReason)
	Policy     *Policy
	Exceptions []Exception
	Now        time.Time
	SkipReason string
}

// NewBuildGate prepares a build gate on the DB load returns. Without data,
// or with data older than max_age (unless allowStale), it refuses, unless
// the gate is skipped: then it goes on without data (no scan, no OpenVEX)
// or on the stale data.
func NewBuildGate(load func() (*vuln.DB, error), pol *Policy, exc []Exception, now time.Time, allowStale bool, skipReason string) (*BuildGate, error) {
	g := &BuildGate{Policy: pol, Exceptions: exc, Now: now, SkipReason: skipReason}
	db, err := load()
	var none *vuln.NoDataError
	switch {
	case errors.As(err, &none) && skipReason != "":
		return g, nil
	case errors.As(err, &none):
		return nil, fmt.Errorf("no vulnerability data (%s data missing): the gate must judge an image before --push or --sign-key publishes it: run `temper vuln update`, or pass --skip-gate --reason TEXT", none.Kind)
	case err != nil:
		return nil, err
	}
	if err := CheckFreshness(db.Data, pol.MaxAgeOrDefault(), allowStale || skipReason != ""); err != nil {
		return nil, fmt.Errorf("%w (or --skip-gate --reason TEXT)", err)
	}
	g.DB = db
	return g, nil
}

// Outcome is what the gate decided for one build, for its log line and
// its evidence.
type Outcome struct {
	// Image is the scan of the lock; nil when there was no data.
	Image *vuln.Image
	Gate  Gate
	Data  vuln.Data
	// Skipped is the --skip-gate reason ("" when the gate was not
	// skipped); Gate.Violations are then the ones not enforced.
	Skipped string
}

// RefusedError is a build the gate refuses to publish.
type RefusedError struct {
	Definition string
	Violations []Violation
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the vulnerability gate refuses to publish %s: %d violations", e.Definition, len(e.Violations))
	for _, v := range e.Violations {
		fmt.Fprintf(&b, "\n  %s [%s]: %s", v.ID, v.Rule, v.Message)
	}
	b.WriteString("\nrun `temper update` for fixable findings, document an exception (docs/scan.md), or pass --skip-gate --reason TEXT")
	return b.String()
}

// Check scans a lock and judges it: the outcome, or a RefusedError.
func (b *BuildGate) Check(definition string, l *spec.Lock) (*Outcome, error) {
	if b.DB == nil {
		return &Outcome{Skipped: b.SkipReason}, nil
	}
	img := vuln.Scan(definition, l, b.DB)
	g := Evaluate(Input{Image: img, Policy: b.Policy.For(definition), Exceptions: b.Exceptions, Now: b.Now})
	o := &Outcome{Image: img, Gate: g, Data: b.DB.Data, Skipped: b.SkipReason}
	if !g.Passed && b.SkipReason == "" {
		return nil, &RefusedError{Definition: definition, Violations: g.Violations}
	}
	return o, nil
}

// Summary is the outcome's line in the build log.
func (o *Outcome) Summary() string {
	switch {
	case o.Image == nil:
		return fmt.Sprintf("vulnerability gate skipped (--skip-gate: %s): no vulnerability data, so no OpenVEX attestation", o.Skipped)
	case o.Skipped != "" && !o.Gate.Passed:
		ids := make([]string, len(o.Gate.Violations))
		for i, v := range o.Gate.Violations {
			ids[i] = v.ID
		}
		return fmt.Sprintf("vulnerability gate skipped (--skip-gate: %s): %d violations not enforced: %s", o.Skipped, len(ids), strings.Join(ids, ", "))
	}
	s := fmt.Sprintf("vulnerability gate passed: %d findings, %d exceptions matched", len(o.Image.Findings), len(o.Gate.Exceptions))
	if o.Data.Tracker != nil {
		s += fmt.Sprintf(", tracker data %s old", o.Data.Tracker.Age().Round(time.Minute))
	}
	if o.Skipped != "" {
		s += fmt.Sprintf(" (--skip-gate given: %s)", o.Skipped)
	}
	return s
}
