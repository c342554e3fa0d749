// Package policy decides whether an image's vulnerability findings may be
// published: the rules of temper.yaml's policy: section, the exceptions a
// team has documented (OpenVEX statuses with a reason, an author and an
// expiry), and the freshness of the data the decision rests on.
//
// It judges a vuln.Image; it does not match packages (package vuln) nor
// write OpenVEX (package vuln/openvex).
package policy

import (
	"fmt"
	"path"
	"sort"
	"time"

	"github.com/temper-dev/temper/internal/vuln"
)

// DefaultMaxAge is how old vulnerability data may be for a gate decision.
const DefaultMaxAge = 24 * time.Hour

// Policy is temper.yaml's policy: section. Zero values mean the defaults:
// block KEV findings that are fixable or open, block fixable findings of
// urgency high, nothing else.
type Policy struct {
	// KEV blocks findings in CISA's KEV catalog that are fixable or open
	// (default true).
	KEV *bool `yaml:"kev,omitempty"`
	// Fixable blocks fixable findings at or above this urgency (default
	// "high"; "none" turns the rule off).
	Fixable string `yaml:"fixable,omitempty"`
	// OpenAfterDays blocks open findings at or above OpenUrgency that
	// temper first saw more than this many days ago (0, the default: off).
	OpenAfterDays int    `yaml:"open_after_days,omitempty"`
	OpenUrgency   string `yaml:"open_urgency,omitempty"` // default "high"
	// Unimportant and EndOfLife block those findings (default false).
	Unimportant bool `yaml:"unimportant,omitempty"`
	EndOfLife   bool `yaml:"end_of_life,omitempty"`
	// MaxAge is how old the data may be, e.g. "24h" (default 24h).
	MaxAge string `yaml:"max_age,omitempty"`
	// Exceptions is the catalog-wide exceptions file (relative to temper.yaml).
	Exceptions string `yaml:"exceptions,omitempty"`
	// Definitions overrides rules for definitions whose path (as given to
	// temper, slash-separated) matches a glob, e.g. "legacy/*.yaml".
	// The first matching glob in sorted order wins; its unset fields keep
	// the catalog-wide values.
	Definitions map[string]Policy `yaml:"definitions,omitempty"`
}

// Validate checks urgency names and durations.
func (p *Policy) Validate() error {
	for _, u := range []string{p.Fixable, p.OpenUrgency} {
		if u == "" || u == "none" {
			continue
		}
		if _, ok := vuln.UrgencyRank(u); !ok {
			return fmt.Errorf("policy: unknown urgency %q (want unimportant, low, medium, high, or none)", u)
		}
	}
	if _, err := p.maxAge(); err != nil {
		return err
	}
	for glob, o := range p.Definitions {
		if _, err := path.Match(glob, ""); err != nil {
			return fmt.Errorf("policy: definitions: %q: %v", glob, err)
		}
		if len(o.Definitions) > 0 || o.Exceptions != "" {
			return fmt.Errorf("policy: definitions: %q: an override cannot name definitions or exceptions", glob)
		}
		if err := o.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// MaxAgeOrDefault returns max_age, or DefaultMaxAge when unset.
func (p *Policy) MaxAgeOrDefault() time.Duration {
	d, _ := p.maxAge()
	return d
}

func (p *Policy) maxAge() (time.Duration, error) {
	if p == nil || p.MaxAge == "" {
		return DefaultMaxAge, nil
	}
	d, err := time.ParseDuration(p.MaxAge)
	if err != nil || d <= 0 {
		return DefaultMaxAge, fmt.Errorf("policy: max_age %q is not a positive duration such as 24h", p.MaxAge)
	}
	return d, nil
}

// For returns the policy that applies to a definition: the catalog-wide one
// with the first matching override's set fields on top.
func (p *Policy) For(definition string) Policy {
	base := Policy{}
	if p != nil {
		base = *p
	}
	globs := make([]string, 0, len(base.Definitions))
	for g := range base.Definitions {
		globs = append(globs, g)
	}
	sort.Strings(globs)
	for _, g := range globs {
		if ok, _ := path.Match(g, definition); !ok {
			continue
		}
		o := base.Definitions[g]
		if o.KEV != nil {
			base.KEV = o.KEV
		}
		base.Fixable = pick(o.Fixable, base.Fixable)
		base.OpenUrgency = pick(o.OpenUrgency, base.OpenUrgency)
		base.MaxAge = pick(o.MaxAge, base.MaxAge)
		if o.OpenAfterDays != 0 {
			base.OpenAfterDays = o.OpenAfterDays
		}
		base.Unimportant = base.Unimportant || o.Unimportant
		base.EndOfLife = base.EndOfLife || o.EndOfLife
		break
	}
	return base
}

func pick(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// CheckFreshness refuses a decision on data older than max_age, unless
// allowStale; the error says how old the data is and what to do.
func CheckFreshness(data vuln.Data, maxAge time.Duration, allowStale bool) error {
	if allowStale {
		return nil
	}
	for _, d := range []struct {
		name string
		ds   *vuln.Dataset
	}{{"security tracker", data.Tracker}, {"KEV", data.KEV}, {"EPSS", data.EPSS}} {
		if d.ds != nil && d.ds.Age() > maxAge {
			return fmt.Errorf("the %s data is %s old (fetched %s), older than max_age %s: run `temper vuln update`, or pass --allow-stale", d.name, d.ds.Age().Round(time.Minute), d.ds.FetchedAt.Format(time.RFC3339), maxAge)
		}
	}
	return nil
}
