package release

import (
	"context"
	"fmt"
	"strings"

	"github.com/temper-dev/temper/internal/store"
)

// urgencies orders Debian's security tracker urgencies.
var urgencies = map[string]int{"unimportant": 1, "low": 2, "medium": 3, "high": 4}

// Reason is why a CVE makes a release eligible for the fast track.
type Reason struct {
	CVE store.CVE
	KEV bool
	// Urgency is Debian's urgency when that made it eligible.
	Urgency string
}

func (r Reason) String() string {
	if r.KEV {
		return r.CVE.ID + " (KEV)"
	}
	return r.CVE.ID + " (urgency " + r.Urgency + ")"
}

// Eligible returns the stream's newest release and the CVEs it fixes that
// make it eligible for the fast track: in KEV, or at or above the
// configured urgency. With cve set, only that CVE counts.
func (s *Service) Eligible(ctx context.Context, stream, cve string) (store.Release, []Reason, error) {
	rels, err := s.Store.Releases(ctx, stream)
	if err != nil {
		return store.Release{}, nil, err
	}
	var newest store.Release
	for _, r := range rels {
		if r.State == store.Published {
			newest = r
			break
		}
	}
	if newest.ID == 0 || s.Vulns == nil {
		return newest, nil, nil
	}
	min := urgencies[s.FastTrackUrgency]
	var out []Reason
	for _, c := range newest.CVEsFixed {
		if cve != "" && !strings.EqualFold(c.ID, cve) {
			continue
		}
		if s.Vulns.KEV(c.ID) {
			out = append(out, Reason{CVE: c, KEV: true})
			continue
		}
		u := s.Vulns.Urgency(c.ID, c.Source)
		if u == "" {
			u = c.Urgency
		}
		if min > 0 && urgencies[u] >= min {
			out = append(out, Reason{CVE: c, Urgency: u})
		}
	}
	return newest, out, nil
}

// FastTracked is the outcome of a fast track: the moves made.
type FastTracked struct {
	Release store.Release
	Reasons []Reason
	Moves   []Moved
}

// FastTrack runs the essential tests against the stream's newest release
// when it is eligible, then moves it into every channel at once,
// recording the reason and the CVEs.
func (s *Service) FastTrack(ctx context.Context, stream, cve string, essential TestRunner) (FastTracked, error) {
	st, err := s.Store.Stream(ctx, stream)
	if err != nil {
		return FastTracked{}, err
	}
	last := s.channels()[len(s.channels())-1]
	if err := s.checkFrozen(ctx, st, last.Name); err != nil {
		return FastTracked{}, err
	}
	rel, reasons, err := s.Eligible(ctx, stream, cve)
	if err != nil {
		return FastTracked{}, err
	}
	if len(reasons) == 0 {
		what := "no fixed CVE is in KEV"
		if s.FastTrackUrgency != "" {
			what += " or at urgency " + s.FastTrackUrgency + " or above"
		}
		if cve != "" {
			what = cve + " is not fixed by it, or not in KEV or urgent enough"
		}
		return FastTracked{}, &Refusal{Stream: stream, Release: rel.Tag, Channel: last.Name, Rule: "not-eligible", Reason: what}
	}
	if essential != nil {
		res, err := essential(ctx, stream, rel)
		if err != nil {
			return FastTracked{}, fmt.Errorf("%s %s: essential tests: %w", stream, rel.Tag, err)
		}
		if !res.Passed {
			return FastTracked{}, &Refusal{Stream: stream, Release: rel.Tag, Channel: last.Name, Rule: "tests", Reason: "essential tests failed: " + res.Summary}
		}
	}
	return s.trackAll(ctx, stream, rel, reasons)
}

func (s *Service) trackAll(ctx context.Context, stream string, rel store.Release, reasons []Reason) (FastTracked, error) {
	var why []string
	for _, r := range reasons {
		why = append(why, r.String())
	}
	reason := "fast track: fixes " + strings.Join(why, ", ")
	heads, err := s.heads(ctx, stream)
	if err != nil {
		return FastTracked{}, err
	}
	out := FastTracked{Release: rel, Reasons: reasons}
	from := ""
	for _, ch := range s.channels() {
		if h, ok := heads[ch.Name]; !ok || h.Release.ID != rel.ID {
			m, err := s.move(ctx, stream, rel, from, ch, store.KindFastTrack, reason, 0)
			if err != nil {
				return out, err
			}
			out.Moves = append(out.Moves, m)
		}
		from = ch.Name
	}
	return out, nil
}

// EligibleStreams lists the streams whose newest release is eligible for
// the fast track and not yet in the last channel.
func (s *Service) EligibleStreams(ctx context.Context) ([]string, error) {
	all, err := s.Store.Streams(ctx)
	if err != nil {
		return nil, err
	}
	last := s.channels()[len(s.channels())-1].Name
	var out []string
	for _, st := range all {
		if Frozen(st, s.now()) {
			continue
		}
		rel, reasons, err := s.Eligible(ctx, st.Name, "")
		if err != nil {
			return nil, err
		}
		if len(reasons) == 0 {
			continue
		}
		heads, err := s.heads(ctx, st.Name)
		if err != nil {
			return nil, err
		}
		if h, ok := heads[last]; !ok || h.Release.ID != rel.ID {
			out = append(out, st.Name)
		}
	}
	return out, nil
}
