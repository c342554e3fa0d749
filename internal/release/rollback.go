package release

import (
	"context"
	"fmt"

	"github.com/temper-dev/temper/internal/store"
)

// Rollback moves a channel back to the release that was in it before the
// current one (or to the named release, which must have been in it), and
// marks the current release rolled back: it is not promoted again unless
// forced. It moves stream alone; RollbackGroup moves a runtime and its
// variants together.
func (s *Service) Rollback(ctx context.Context, stream, channel, toTag, reason string) (Moved, error) {
	ch, _, err := s.channel(channel)
	if err != nil {
		return Moved{}, err
	}
	heads, err := s.heads(ctx, stream)
	if err != nil {
		return Moved{}, err
	}
	cur, ok := heads[channel]
	if !ok {
		return Moved{}, fmt.Errorf("%s: channel %s holds no release", stream, channel)
	}
	target, err := s.rollbackTarget(ctx, stream, channel, cur.Release, toTag)
	if err != nil {
		return Moved{}, err
	}
	if reason == "" {
		reason = "rolled back"
	}
	return s.move(ctx, stream, target, "", ch, store.KindRollback, reason, cur.Release.ID)
}

// rollbackTarget walks the channel's history back from its current
// release.
func (s *Service) rollbackTarget(ctx context.Context, stream, channel string, cur store.Release, toTag string) (store.Release, error) {
	moves, err := s.Store.Moves(ctx, stream)
	if err != nil {
		return store.Release{}, err
	}
	for i := len(moves) - 1; i >= 0; i-- {
		m := moves[i]
		if m.Channel != channel || m.ReleaseID == cur.ID {
			continue
		}
		if toTag != "" && m.Tag != toTag {
			continue
		}
		r, err := s.Store.ReleaseByID(ctx, m.ReleaseID)
		if err != nil {
			return store.Release{}, err
		}
		if toTag == "" && !r.RolledBack.IsZero() {
			continue
		}
		return r, nil
	}
	if toTag != "" {
		return store.Release{}, fmt.Errorf("%s: release %s was never in %s", stream, toTag, channel)
	}
	return store.Release{}, fmt.Errorf("%s: %s has held no release before %s to roll back to", stream, channel, cur.Tag)
}

// RollbackGroup rolls back stream's group (Group: a runtime and its
// variants) in a channel together. The stream named goes back as Rollback
// takes it (the previous release in the channel, or toTag); the others go
// to the matching release, so the channel keeps a runtime with the
// variants built from its closure:
//
//   - a variant release was built with the runtime's newest release
//     published before it (a variant is published after its runtime, and
//     a variant-only change after the runtime release it was built with);
//     a runtime release after which the variant's build did not change
//     goes with the variant's newest release before it (builtWith);
//   - the runtime goes to the release the named variant release was built
//     with, and each variant to its newest release built with the
//     runtime's that was in the channel (one not rolled back before, when
//     there is one).
//
// A member whose channel holds its matching release already does not
// move; one with no release in the channel has nothing to roll back.
// Every member is checked first: when one has no matching release that
// was in the channel, none moves and the error names it. Each release
// moved off is marked rolled back. The moves are in Group's order,
// runtime first.
func (s *Service) RollbackGroup(ctx context.Context, stream, channel, toTag, reason string) ([]Moved, error) {
	ch, _, err := s.channel(channel)
	if err != nil {
		return nil, err
	}
	group, err := s.Group(ctx, stream)
	if err != nil {
		return nil, err
	}
	heads, err := s.heads(ctx, stream)
	if err != nil {
		return nil, err
	}
	cur, ok := heads[channel]
	if !ok {
		return nil, fmt.Errorf("%s: channel %s holds no release", stream, channel)
	}
	target, err := s.rollbackTarget(ctx, stream, channel, cur.Release, toTag)
	if err != nil {
		return nil, err
	}
	if reason == "" {
		reason = "rolled back"
	}
	plans := []rollbackPlan{{stream: stream, from: cur.Release, to: target}}
	if len(group) > 1 {
		others, err := s.planGroupRollback(ctx, group, stream, channel, target)
		if err != nil {
			return nil, err
		}
		plans = append(plans, others...)
	}
	var out []Moved
	for _, m := range group {
		for _, p := range plans {
			if p.stream != m {
				continue
			}
			if p.from.ID == p.to.ID {
				out = append(out, Moved{Stream: m, Release: p.to, Already: true})
				continue
			}
			why := reason
			if m != stream {
				why += " (with " + stream + ")"
			}
			mv, err := s.move(ctx, m, p.to, "", ch, store.KindRollback, why, p.from.ID)
			mv.Stream = m
			out = append(out, mv)
			if err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// rollbackPlan is one stream's move back: from the release its channel
// holds to the one it goes back to.
type rollbackPlan struct {
	stream   string
	from, to store.Release
}

// planGroupRollback plans the moves of group's members other than stream,
// whose channel goes back to target: each member with a release in the
// channel goes to its release matching target's runtime release. A member
// with no such release holds the whole group back (the error says so).
func (s *Service) planGroupRollback(ctx context.Context, group []string, stream, channel string, target store.Release) ([]rollbackPlan, error) {
	runtime := group[0]
	rtRels, err := s.Store.Releases(ctx, runtime) // newest first
	if err != nil {
		return nil, err
	}
	base := target // the runtime release the group goes back to
	if stream != runtime {
		if base = matchedRuntime(rtRels, target.ID); base.ID == 0 {
			return nil, heldBack(fmt.Errorf("%s: no release of %s was published before %s %s", runtime, runtime, stream, target.Tag), group)
		}
	}
	var plans []rollbackPlan
	for _, m := range group {
		if m == stream {
			continue
		}
		mh, err := s.heads(ctx, m)
		if err != nil {
			return nil, err
		}
		mcur, ok := mh[channel]
		if !ok {
			continue // nothing in the channel to roll back
		}
		to, err := s.matchingIn(ctx, m, m == runtime, channel, base, rtRels)
		if err != nil {
			return nil, heldBack(err, group)
		}
		plans = append(plans, rollbackPlan{stream: m, from: mcur.Release, to: to})
	}
	return plans, nil
}

// matchedRuntime is the runtime release a variant release (by its ID)
// was built with: the runtime's newest release published before it.
// rels are the runtime's releases, newest first.
func matchedRuntime(rels []store.Release, variantID int64) store.Release {
	for _, r := range rels {
		if r.ID < variantID {
			return r
		}
	}
	return store.Release{}
}

// builtWith are a variant's releases built with the runtime's release
// base, newest first: those published after base and before the
// runtime's next release (a variant is published after its runtime; a
// variant-only change after the runtime release it was built with), or,
// when there are none (the variant's build did not change with base),
// the variant's newest release before base. rels are the variant's and
// rtRels the runtime's releases, newest first.
func builtWith(rels, rtRels []store.Release, base store.Release) []store.Release {
	var next int64 // the runtime's release after base; 0: none
	for _, r := range rtRels {
		if r.ID > base.ID {
			next = r.ID
		}
	}
	var out []store.Release
	for _, r := range rels {
		if r.ID > base.ID && (next == 0 || r.ID < next) {
			out = append(out, r)
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, r := range rels {
		if r.ID < base.ID {
			return []store.Release{r}
		}
	}
	return nil
}

// matchingIn is member's release to roll channel back to alongside the
// runtime's release base: base itself for the runtime, else the member's
// newest release built with base (builtWith; one not rolled back before,
// when there is one); in both cases one that was in the channel.
func (s *Service) matchingIn(ctx context.Context, member string, isRuntime bool, channel string, base store.Release, rtRels []store.Release) (store.Release, error) {
	moves, err := s.Store.Moves(ctx, member)
	if err != nil {
		return store.Release{}, err
	}
	was := map[int64]bool{}
	for _, m := range moves {
		if m.Channel == channel {
			was[m.ReleaseID] = true
		}
	}
	if isRuntime {
		if !was[base.ID] {
			return store.Release{}, fmt.Errorf("%s: its release %s, which the rolled-back-to release was built with, was never in %s", member, base.Tag, channel)
		}
		return base, nil
	}
	rels, err := s.Store.Releases(ctx, member) // newest first
	if err != nil {
		return store.Release{}, err
	}
	var found store.Release
	for _, r := range builtWith(rels, rtRels, base) {
		if !was[r.ID] {
			continue
		}
		if r.RolledBack.IsZero() {
			return r, nil
		}
		if found.ID == 0 {
			found = r
		}
	}
	if found.ID == 0 {
		return store.Release{}, fmt.Errorf("%s: no release of it built with %s was in %s", member, base.Stream+" "+base.Tag, channel)
	}
	return found, nil
}
