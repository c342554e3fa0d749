// Package release is the model and rules of getting images to production:
// streams, releases with their immutable tags, channels as moving tags,
// promotion (soak, full tests, gate, freeze), the weekly snapshot, the
// fast track for exploited vulnerabilities, rollback, and end-of-life
// freeze. The store (internal/store) is the record; the registry tags are
// its projection (Tags), re-applied by Repair when they drift.
//
// It does not build, test, scan or sign: the pipeline does, and hands
// this package digests and results, or callbacks (GateCheck, TestRunner,
// Attest) it calls at the moment a rule needs them. Time comes from an
// injected clock so the rules can be tested.
package release

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/temper-dev/temper/internal/store"
)

// Service applies the rules to one store and one registry.
type Service struct {
	Store store.Store
	Tags  Tags
	// Channels in promotion order; nil means DefaultChannels.
	Channels []Channel
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Gate checks a release against today's vulnerability data when it
	// is promoted; nil means the gate result recorded at publish.
	Gate GateCheck
	// Vulns says which CVEs are exploited or urgent (fast track); nil
	// means no release is eligible.
	Vulns Vulns
	// FastTrackUrgency is the lowest Debian urgency that makes a fix
	// eligible for the fast track; "" means KEV only.
	FastTrackUrgency string
	// Attest, when set, is called after each channel move (to attach the
	// signed promotion attestation).
	Attest func(ctx context.Context, p Promotion) error
}

// GateCheck evaluates the vulnerability gate for a release now.
type GateCheck func(ctx context.Context, stream string, r store.Release) (store.Result, error)

// Vulns is the vulnerability data fast-track eligibility needs.
type Vulns interface {
	// KEV reports whether a CVE is in the known-exploited list.
	KEV(cve string) bool
	// Urgency is Debian's urgency for a CVE in a source package ("" when
	// unknown).
	Urgency(cve, source string) string
}

// TestRunner runs a test suite against one release's digest.
type TestRunner func(ctx context.Context, stream string, r store.Release) (store.Result, error)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) channels() []Channel {
	if len(s.Channels) > 0 {
		return s.Channels
	}
	return DefaultChannels()
}

// channel finds a channel by name and its position.
func (s *Service) channel(name string) (Channel, int, error) {
	chs := s.channels()
	var names []string
	for i, c := range chs {
		if c.Name == name {
			return c, i, nil
		}
		names = append(names, c.Name)
	}
	return Channel{}, 0, fmt.Errorf("unknown channel %q (channels: %s)", name, strings.Join(names, ", "))
}

// Refusal is a rule that stopped a publish, promotion or fast track.
type Refusal struct {
	Stream  string
	Release string // the release's tag, when there is one
	Channel string // the channel it was going to
	// Rule is the rule that refused: frozen, rolled-back, soak, tests,
	// gate, not-eligible.
	Rule   string
	Reason string
	// Eligible is when the release satisfies the rule (soak only).
	Eligible time.Time
}

func (r *Refusal) Error() string {
	var b strings.Builder
	b.WriteString(r.Stream)
	if r.Release != "" {
		b.WriteString(" " + r.Release)
	}
	if r.Channel != "" {
		b.WriteString(" → " + r.Channel)
	}
	fmt.Fprintf(&b, ": refused by rule %s: %s", r.Rule, r.Reason)
	if !r.Eligible.IsZero() {
		fmt.Fprintf(&b, "; eligible %s", r.Eligible.UTC().Format("2006-01-02 15:04 MST"))
	}
	return b.String()
}

// heads maps channel name → head.
func (s *Service) heads(ctx context.Context, stream string) (map[string]store.Head, error) {
	hs, err := s.Store.Heads(ctx, stream)
	if err != nil {
		return nil, err
	}
	m := make(map[string]store.Head, len(hs))
	for _, h := range hs {
		m[h.Channel] = h
	}
	return m, nil
}
