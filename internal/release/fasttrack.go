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
	// Release is the newest release of the stream asked for; Reasons are
	// the fixes that made its group eligible (its own when it has any,
	// else those of the first member in Group order that has).
	Release store.Release
	Reasons []Reason
	// Moves are the moves of every member of the group, runtime first;
	// Moved.Stream names the member.
	Moves []Moved
}

// tracked is a member of a group being fast-tracked: its newest release
// and the fixes in it that make it eligible.
type tracked struct {
	stream  string
	rel     store.Release
	reasons []Reason
	heads   map[string]store.Head
}

// pending says whether some channel does not hold the member's release.
func (t tracked) pending(chs []Channel) bool {
	for _, ch := range chs {
		if h, ok := t.heads[ch.Name]; !ok || h.Release.ID != t.rel.ID {
			return true
		}
	}
	return false
}

// FastTrack moves stream's group (Group: a runtime and its variants, which
// share the runtime's closure at the same versions) into every channel at
// once, each member's newest release, when the group is eligible: the
// newest release of a member fixes a CVE in KEV or at the configured
// urgency (with cve set, only that CVE counts). Every member is checked
// first: none frozen, each with a published release whose essential
// tests pass; when one is refused none moves, and the refusal names it.
// Each move records the reason and the CVEs: a member's own fixes, or
// the member whose fixes made the group eligible.
func (s *Service) FastTrack(ctx context.Context, stream, cve string, essential TestRunner) (FastTracked, error) {
	group, err := s.Group(ctx, stream)
	if err != nil {
		return FastTracked{}, err
	}
	chs := s.channels()
	last := chs[len(chs)-1]
	members, err := s.trackable(ctx, group, cve, last)
	if err != nil {
		return FastTracked{}, err
	}
	var named, lead *tracked
	for i := range members {
		if members[i].stream == stream {
			named = &members[i]
		}
		if lead == nil && len(members[i].reasons) > 0 {
			lead = &members[i]
		}
	}
	if named != nil && len(named.reasons) > 0 {
		lead = named
	}
	if lead == nil {
		what := "no fixed CVE is in KEV"
		if s.FastTrackUrgency != "" {
			what += " or at urgency " + s.FastTrackUrgency + " or above"
		}
		if cve != "" {
			what = cve + " is not fixed by it, or not in KEV or urgent enough"
		}
		if len(group) > 1 {
			what += " (in the newest release of none of " + strings.Join(group, ", ") + ")"
		}
		return FastTracked{}, &Refusal{Stream: stream, Release: named.rel.Tag, Channel: last.Name, Rule: "not-eligible", Reason: what}
	}
	// Every member is checked before any moves.
	for _, m := range members {
		if m.rel.ID == 0 {
			return FastTracked{}, heldBack(&Refusal{Stream: m.stream, Channel: last.Name, Rule: "not-eligible",
				Reason: "it has no published release to move with " + lead.stream + " " + lead.rel.Tag}, group)
		}
		if essential == nil || !m.pending(chs) {
			continue
		}
		res, err := essential(ctx, m.stream, m.rel)
		if err != nil {
			return FastTracked{}, fmt.Errorf("%s %s: essential tests: %w", m.stream, m.rel.Tag, err)
		}
		if !res.Passed {
			return FastTracked{}, heldBack(&Refusal{Stream: m.stream, Release: m.rel.Tag, Channel: last.Name, Rule: "tests", Reason: "essential tests failed: " + res.Summary}, group)
		}
	}
	out := FastTracked{Release: named.rel, Reasons: lead.reasons}
	for _, m := range members {
		reason := "fast track: fixes " + reasonsText(m.reasons)
		if len(m.reasons) == 0 {
			reason = "fast track: with " + lead.stream + " " + lead.rel.Tag + ", which fixes " + reasonsText(lead.reasons)
		}
		moves, err := s.trackAll(ctx, m, reason)
		out.Moves = append(out.Moves, moves...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// trackable reads each member's newest release and its eligible fixes,
// refusing (for the whole group) when a member is frozen.
func (s *Service) trackable(ctx context.Context, group []string, cve string, last Channel) ([]tracked, error) {
	out := make([]tracked, 0, len(group))
	for _, name := range group {
		st, err := s.Store.Stream(ctx, name)
		if err != nil {
			return nil, err
		}
		if err := s.checkFrozen(ctx, st, last.Name); err != nil {
			return nil, heldBack(err, group)
		}
		t := tracked{stream: name}
		if t.rel, t.reasons, err = s.Eligible(ctx, name, cve); err != nil {
			return nil, err
		}
		if t.heads, err = s.heads(ctx, name); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func reasonsText(reasons []Reason) string {
	why := make([]string, 0, len(reasons))
	for _, r := range reasons {
		why = append(why, r.String())
	}
	return strings.Join(why, ", ")
}

// trackAll moves a member's release into every channel that does not hold
// it yet.
func (s *Service) trackAll(ctx context.Context, t tracked, reason string) ([]Moved, error) {
	var out []Moved
	from := ""
	for _, ch := range s.channels() {
		if h, ok := t.heads[ch.Name]; !ok || h.Release.ID != t.rel.ID {
			m, err := s.move(ctx, t.stream, t.rel, from, ch, store.KindFastTrack, reason, 0)
			m.Stream = t.stream
			if err != nil {
				return out, err
			}
			out = append(out, m)
		}
		from = ch.Name
	}
	return out, nil
}

// EligibleStreams lists the groups (Group; each by its runtime stream)
// that the fast track would move: the newest release of a member that is
// not frozen is eligible, and the newest release of some member is not
// yet in the last channel.
func (s *Service) EligibleStreams(ctx context.Context) ([]string, error) {
	all, err := s.Store.Streams(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(all))
	frozen := map[string]bool{}
	for _, st := range all {
		names = append(names, st.Name)
		frozen[st.Name] = Frozen(st, s.now())
	}
	groups, err := s.Groups(ctx, names)
	if err != nil {
		return nil, err
	}
	last := s.channels()[len(s.channels())-1].Name
	var out []string
	for _, g := range groups {
		eligible, behind := false, false
		for _, m := range g {
			rel, reasons, err := s.Eligible(ctx, m, "")
			if err != nil {
				return nil, err
			}
			eligible = eligible || (len(reasons) > 0 && !frozen[m])
			heads, err := s.heads(ctx, m)
			if err != nil {
				return nil, err
			}
			if h, ok := heads[last]; !ok || h.Release.ID != rel.ID {
				behind = true
			}
		}
		if eligible && behind {
			out = append(out, g[0])
		}
	}
	return out, nil
}
