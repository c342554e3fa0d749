package release

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/temper-dev/temper/internal/store"
)

// Group is the streams that move through the channels together
// (docs/variants.md): a runtime stream NAME:VERSION first, then its
// variants' streams NAME:VERSION-VARIANT, those published from the same
// definition. A stream with no variants is a group of one; a variant's
// group is its runtime's.
func (s *Service) Group(ctx context.Context, stream string) ([]string, error) {
	st, err := s.Store.Stream(ctx, stream)
	if err != nil {
		return nil, err
	}
	if st.Definition == "" {
		return []string{stream}, nil
	}
	all, err := s.Store.Streams(ctx)
	if err != nil {
		return nil, err
	}
	return groupOf(st, all), nil
}

// groupOf is Group over the streams read already.
func groupOf(st store.Stream, all []store.Stream) []string {
	stream := st.Name
	if st.Definition == "" {
		return []string{stream}
	}
	var siblings []string
	for _, o := range all {
		if o.Definition == st.Definition {
			siblings = append(siblings, o.Name)
		}
	}
	// The runtime: the shortest sibling that stream is, or is a variant of.
	runtime := stream
	for _, o := range siblings {
		if len(o) < len(runtime) && strings.HasPrefix(stream, o+"-") {
			runtime = o
		}
	}
	group := []string{runtime}
	for _, o := range siblings {
		if strings.HasPrefix(o, runtime+"-") {
			group = append(group, o)
		}
	}
	sort.Strings(group[1:])
	return group
}

// PromoteGroup promotes stream's group (Group: a runtime and its
// variants) into `to` together: every member's promotion is checked
// first, by Promote's rules, and when one is refused none moves (the
// error is the member's refusal, naming it, and says that the group
// stays). Members whose release is in `to` already are reported as
// Already. The moves are in Group's order, runtime first; a registry
// failure part way leaves the members before it moved, and running it
// again moves the rest.
func (s *Service) PromoteGroup(ctx context.Context, stream, to string, opt PromoteOptions) ([]Moved, error) {
	group, err := s.Group(ctx, stream)
	if err != nil {
		return nil, err
	}
	plans := make([]planned, len(group))
	for i, m := range group {
		if plans[i], err = s.plan(ctx, m, to, opt); err != nil {
			return nil, heldBack(err, group)
		}
	}
	out := make([]Moved, 0, len(group))
	for _, p := range plans {
		m, err := s.do(ctx, p)
		m.Stream = p.stream
		out = append(out, m)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// heldBack adds to a member's refusal that its group (Group) stays: the
// one wording of the all-or-nothing rule for promotion, snapshot, fast
// track and rollback. A group of one gets err unchanged.
func heldBack(err error, group []string) error {
	if len(group) < 2 {
		return err
	}
	return fmt.Errorf("%w; %s and its variants move only together: none of %s moved", err, group[0], strings.Join(group, ", "))
}

// Groups expands streams into their groups (Group), each once, in the
// order first named: what a command or job naming several streams moves.
// The streams are read once.
func (s *Service) Groups(ctx context.Context, streams []string) ([][]string, error) {
	all, err := s.Store.Streams(ctx)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]store.Stream, len(all))
	for _, st := range all {
		byName[st.Name] = st
	}
	var out [][]string
	seen := map[string]bool{}
	for _, name := range streams {
		if seen[name] {
			continue
		}
		st, ok := byName[name]
		if !ok {
			if st, err = s.Store.Stream(ctx, name); err != nil {
				return nil, err // not found, named
			}
		}
		g := groupOf(st, all)
		for _, m := range g {
			seen[m] = true
		}
		out = append(out, g)
	}
	return out, nil
}
