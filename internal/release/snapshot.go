package release

import (
	"context"
	"errors"
	"fmt"

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
// promotes the passing ones to the second channel.
func (s *Service) Snapshot(ctx context.Context, streams []string, full TestRunner) (SnapshotRun, error) {
	if len(streams) == 0 {
		all, err := s.Store.Streams(ctx)
		if err != nil {
			return SnapshotRun{}, err
		}
		for _, st := range all {
			if !Frozen(st, s.now()) {
				streams = append(streams, st.Name)
			}
		}
	}
	chs := s.channels()
	if len(chs) < 2 {
		return SnapshotRun{}, fmt.Errorf("a snapshot promotes into the second channel; only %s is configured", chs[0].Name)
	}
	snap := store.Snapshot{At: s.now()}
	for _, stream := range streams {
		heads, err := s.heads(ctx, stream)
		if err != nil {
			return SnapshotRun{}, err
		}
		h, ok := heads[chs[0].Name]
		if !ok {
			continue
		}
		res, err := full(ctx, stream, h.Release)
		if err != nil {
			return SnapshotRun{}, fmt.Errorf("snapshot: %s %s: %w", stream, h.Release.Tag, err)
		}
		snap.Results = append(snap.Results, store.SnapshotResult{Stream: stream, ReleaseID: h.Release.ID, Tag: h.Release.Tag, Passed: res.Passed, Summary: res.Summary})
	}
	snap, err := s.Store.RecordSnapshot(ctx, snap)
	if err != nil {
		return SnapshotRun{}, err
	}
	run := SnapshotRun{Snapshot: snap}
	for _, r := range snap.Results {
		if !r.Passed {
			continue
		}
		m, err := s.Promote(ctx, r.Stream, chs[1].Name, PromoteOptions{})
		var ref *Refusal
		switch {
		case errors.As(err, &ref):
			run.Refused = append(run.Refused, err)
		case err != nil:
			return run, err
		default:
			run.Promoted = append(run.Promoted, m)
		}
	}
	return run, nil
}
