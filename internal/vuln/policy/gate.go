package policy

import (
	"fmt"
	"time"

	"github.com/temper-dev/temper/internal/vuln"
)

// Gate is the decision for one image.
type Gate struct {
	Passed     bool        `json:"passed"`
	Violations []Violation `json:"violations"`
	// Exceptions are those that matched a finding of the image: applied
	// ones waived it; expired ones did not and are listed so.
	Exceptions []Decision `json:"exceptions,omitempty"`
}

// Violation is one finding the policy blocks.
type Violation struct {
	ID      string `json:"id"`
	Rule    string `json:"rule"` // kev, fixable, open-age, unimportant, end-of-life, not-scanned
	Message string `json:"message"`
}

// RuleNotScanned is the violation of an image that could not be scanned.
const RuleNotScanned = "not-scanned"

// NotScanned is the gate of an image that could not be scanned (no lock,
// an out-of-date lock, an unreadable image): it fails, since nothing is
// known about the image's vulnerabilities; reason says why.
func NotScanned(reason string) Gate {
	return Gate{Violations: []Violation{{Rule: RuleNotScanned, Message: "not scanned: " + reason}}}
}

// Decision is an exception that matched a finding.
type Decision struct {
	Exception
	Source  string `json:"source"`
	Expired bool   `json:"expired"`
}

// Input is what Evaluate judges.
type Input struct {
	Image      *vuln.Image
	Policy     Policy // already narrowed with Policy.For
	Exceptions []Exception
	Now        time.Time
	// FirstSeen returns when temper first saw an id in the tracker, for the
	// open_after_days rule; nil or unknown ids never trip that rule.
	FirstSeen func(id string) (time.Time, bool)
}

// Evaluate applies the policy to every finding of the image. A finding an
// unexpired exception covers is waived; an expired one is reported.
func Evaluate(in Input) Gate {
	g := Gate{Violations: []Violation{}}
	for _, f := range in.Image.Findings {
		rule, msg := in.blocks(f)
		exc, expired := in.exception(f)
		if exc != nil {
			g.Exceptions = append(g.Exceptions, Decision{Exception: *exc, Source: f.Source, Expired: expired})
		}
		if rule == "" || (exc != nil && !expired) {
			continue
		}
		if exc != nil {
			msg += fmt.Sprintf(" (exception by %s expired %s)", exc.Author, exc.Expires)
		}
		g.Violations = append(g.Violations, Violation{ID: f.ID, Rule: rule, Message: msg})
	}
	g.Passed = len(g.Violations) == 0
	return g
}

// exception returns the unexpired exception covering f, else an expired one.
func (in Input) exception(f vuln.Finding) (*Exception, bool) {
	var expired *Exception
	for i := range in.Exceptions {
		e := &in.Exceptions[i]
		if !e.Covers(in.Image.Definition, f.ID, f.Source) {
			continue
		}
		if !e.Expired(in.Now) {
			return e, false
		}
		expired = e
	}
	return expired, expired != nil
}

// blocks returns the rule a finding violates ("" when none) and why.
func (in Input) blocks(f vuln.Finding) (string, string) {
	p := in.Policy
	pkgs := fmt.Sprintf("%s %s (%v)", f.Source, f.SourceVersion, f.Packages)
	if f.KEV != nil && (p.KEV == nil || *p.KEV) && (f.Status == vuln.Fixable || f.Status == vuln.Open) {
		return "kev", fmt.Sprintf("%s is known to be exploited (CISA KEV since %s) and %s in %s", f.ID, f.KEV.DateAdded, f.Status, pkgs)
	}
	switch f.Status {
	case vuln.Fixable:
		if atLeast(f.Urgency, p.Fixable, "high") {
			return "fixable", fmt.Sprintf("%s (%s) is fixed in %s; %s is locked: run temper update", f.ID, f.Urgency, f.FixedVersion, pkgs)
		}
	case vuln.Open:
		if p.OpenAfterDays > 0 && in.FirstSeen != nil && atLeast(f.Urgency, p.OpenUrgency, "high") {
			if t, ok := in.FirstSeen(f.ID); ok && in.Now.Sub(t) > time.Duration(p.OpenAfterDays)*24*time.Hour {
				return "open-age", fmt.Sprintf("%s (%s) has been open since %s in %s", f.ID, f.Urgency, t.Format("2006-01-02"), pkgs)
			}
		}
	case vuln.Unimportant:
		if p.Unimportant {
			return "unimportant", fmt.Sprintf("%s is unimportant to Debian but the policy blocks it, in %s", f.ID, pkgs)
		}
	case vuln.EndOfLife:
		if p.EndOfLife {
			return "end-of-life", fmt.Sprintf("%s: Debian no longer supports %s in %s", f.ID, f.Source, in.Image.Release)
		}
	}
	return "", ""
}

// atLeast reports whether urgency u reaches threshold (def when unset;
// "none" never).
func atLeast(u, threshold, def string) bool {
	if threshold == "" {
		threshold = def
	}
	if threshold == "none" {
		return false
	}
	t, _ := vuln.UrgencyRank(threshold)
	r, _ := vuln.UrgencyRank(u)
	return r >= t
}
