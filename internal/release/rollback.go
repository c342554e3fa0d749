package release

import (
	"context"
	"fmt"

	"github.com/temper-dev/temper/internal/store"
)

// Rollback moves a channel back to the release that was in it before the
// current one (or to the named release, which must have been in it), and
// marks the current release rolled back: it is not promoted again unless
// forced.
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
