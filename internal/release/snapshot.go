package release

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/temper-dev/temper/internal/store"
)

// SnapshotRun is the outcome of the weekly snapshot.
type SnapshotRun struct {
	Snapshot store.Snapshot
	// Promoted are the passing streams moved to the second channel;
	// Refused are those a rule stopped (e.g. the gate with today's data).
	Promoted []Moved
	Refused  []error
}

// Snapshot takes the newest release in the first channel of each stream
// (all streams when none are named; frozen ones are skipped), runs the
// full suite against exactly those digests, records the snapshot, and
// promotes the passing ones to the second channel. A runtime and its
// variants (Group) move together, as PromoteGroup moves them: naming one
// snapshots the group, and a member whose full suite failed (or that has
// no release in the first channel) holds the others back, reported in
// Refused with the member's name. A group whose members all failed is in
// the results only.
func (s *Service) Snapshot(ctx context.Context, streams []string, full TestRunner) (SnapshotRun, error) {
	all, err := s.Store.Streams(ctx)
	if err != nil {
		return SnapshotRun{}, err
	}
	frozen := map[string]bool{}
	for _, st := range all {
		frozen[st.Name] = Frozen(st, s.now())
	}
	if len(streams) == 0 {
		for _, st := range all {
			if !frozen[st.Name] {
				streams = append(streams, st.Name)
			}
		}
	}
	chs := s.channels()
	if len(chs) < 2 {
		return SnapshotRun{}, fmt.Errorf("a snapshot promotes into the second channel; only %s is configured", chs[0].Name)
	}
	groups, err := s.Groups(ctx, streams)
	if err != nil {
		return SnapshotRun{}, err
	}
	snap, tested, err := s.snapshotTests(ctx, groups, streams, frozen, chs[0].Name, full)
	if err != nil {
		return SnapshotRun{}, err
	}
	snap, err = s.Store.RecordSnapshot(ctx, snap)
	if err != nil {
		return SnapshotRun{}, err
	}
	run := SnapshotRun{Snapshot: snap}
	for _, g := range groups {
		passing, held := snapshotVerdict(g, snap, tested, frozen, chs)
		if !passing {
			continue
		}
		if held != nil {
			run.Refused = append(run.Refused, heldBack(held, g))
			continue
		}
		ms, err := s.PromoteGroup(ctx, g[0], chs[1].Name, PromoteOptions{})
		run.Promoted = append(run.Promoted, ms...)
		var ref *Refusal
		switch {
		case errors.As(err, &ref):
			run.Refused = append(run.Refused, err)
		case err != nil:
			return run, err
		}
	}
	return run, nil
}

// snapshotTests runs the full suite against the newest release in channel
// first of each member of groups (a frozen member only when named), and
// returns the snapshot's results with, by stream, the index of its result.
func (s *Service) snapshotTests(ctx context.Context, groups [][]string, named []string, frozen map[string]bool, first string, full TestRunner) (store.Snapshot, map[string]int, error) {
	snap := store.Snapshot{At: s.now()}
	tested := map[string]int{} // stream → index in snap.Results
	for _, g := range groups {
		for _, stream := range g {
			if frozen[stream] && !slices.Contains(named, stream) {
				continue // not tested: PromoteGroup refuses the group naming it
			}
			heads, err := s.heads(ctx, stream)
			if err != nil {
				return snap, nil, err
			}
			h, ok := heads[first]
			if !ok {
				continue
			}
			res, err := full(ctx, stream, h.Release)
			if err != nil {
				return snap, nil, fmt.Errorf("snapshot: %s %s: %w", stream, h.Release.Tag, err)
			}
			tested[stream] = len(snap.Results)
			snap.Results = append(snap.Results, store.SnapshotResult{Stream: stream, ReleaseID: h.Release.ID, Tag: h.Release.Tag, Passed: res.Passed, Summary: res.Summary})
		}
	}
	return snap, tested, nil
}

// snapshotVerdict reports whether a member of group g passed the recorded
// snapshot, and the refusal that holds the group back: for the first member
// whose suite failed, or that (not frozen) had no release in the first
// channel to test.
func snapshotVerdict(g []string, snap store.Snapshot, tested map[string]int, frozen map[string]bool, chs []Channel) (passing bool, held error) {
	for _, stream := range g {
		i, ok := tested[stream]
		switch {
		case ok && snap.Results[i].Passed:
			passing = true
		case ok && held == nil:
			r := snap.Results[i]
			held = &Refusal{Stream: stream, Release: r.Tag, Channel: chs[1].Name, Rule: "tests", Reason: "the snapshot's full test suite failed: " + r.Summary}
		case !ok && !frozen[stream] && held == nil:
			held = &Refusal{Stream: stream, Channel: chs[1].Name, Rule: "tests", Reason: "it has no release in " + chs[0].Name + " for the snapshot to test"}
		}
	}
	return passing, held
}
