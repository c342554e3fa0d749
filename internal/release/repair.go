package release

import (
	"context"
	"errors"

	"github.com/temper-dev/temper/internal/store"
)

// Drift is a registry tag that did not name the digest the store records.
type Drift struct {
	Stream string `json:"stream"`
	Tag    string `json:"tag"`
	// Found is what the tag named ("" when missing); Want is the store's.
	Found string `json:"found"`
	Want  string `json:"want"`
	// Repaired is false in a dry run.
	Repaired bool `json:"repaired"`
}

// Repair compares every channel tag and every channel head's immutable
// tag with the store and, unless dryRun, puts the store's digest back.
func (s *Service) Repair(ctx context.Context, dryRun bool) ([]Drift, error) {
	ov, err := s.Store.Overview(ctx)
	if err != nil {
		return nil, err
	}
	var out []Drift
	for _, o := range ov {
		name, version, err := SplitStream(o.Stream.Name)
		if err != nil {
			return out, err
		}
		for _, h := range o.Heads {
			ch, _, err := s.channel(h.Channel)
			if err != nil {
				continue // a channel no longer configured
			}
			for _, tag := range []string{h.Release.Tag, ch.Tag(version)} {
				d, err := s.repairTag(ctx, o.Stream.Name, name, tag, h.Release, dryRun)
				if err != nil {
					return out, err
				}
				if d != nil {
					out = append(out, *d)
				}
			}
		}
	}
	return out, nil
}

func (s *Service) repairTag(ctx context.Context, stream, repo, tag string, r store.Release, dryRun bool) (*Drift, error) {
	got, err := s.Tags.Get(ctx, repo, tag)
	if err != nil && !errors.Is(err, ErrNoTag) {
		return nil, err
	}
	if got == r.Digest {
		return nil, nil
	}
	d := &Drift{Stream: stream, Tag: repo + ":" + tag, Found: got, Want: r.Digest}
	if !dryRun {
		if err := s.Tags.Put(ctx, repo, tag, r.Digest); err != nil {
			return d, err
		}
		d.Repaired = true
	}
	return d, nil
}
