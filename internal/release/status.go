package release

import (
	"context"
	"time"

	"github.com/temper-dev/temper/internal/store"
)

// StreamStatus is one row of `temper status`.
type StreamStatus struct {
	Stream   string          `json:"stream"`
	Frozen   bool            `json:"frozen"`
	EOL      string          `json:"eol,omitempty"`
	Channels []ChannelStatus `json:"channels"`
	// Newest is the newest published release's tag.
	Newest string `json:"newest,omitempty"`
	// Findings are the open findings of the newest release by urgency,
	// and how many are known exploited, as its scan recorded them.
	Findings map[string]int `json:"findings,omitempty"`
	KEV      int            `json:"kev"`
	Next     *Next          `json:"next,omitempty"`
}

// ChannelStatus is the release a channel holds.
type ChannelStatus struct {
	Channel string        `json:"channel"`
	Tag     string        `json:"tag"`
	Release string        `json:"release"`
	Digest  string        `json:"digest"`
	Since   time.Time     `json:"since"`
	Age     time.Duration `json:"age_ns"`
}

// Next is the next promotion the rules expect.
type Next struct {
	Release string    `json:"release"`
	To      string    `json:"to"`
	Date    time.Time `json:"date"`
	// Waiting names what else the promotion waits for ("full tests").
	Waiting string `json:"waiting,omitempty"`
}

// Status reads every stream's channels in a few queries.
func (s *Service) Status(ctx context.Context) ([]StreamStatus, error) {
	ov, err := s.Store.Overview(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]StreamStatus, 0, len(ov))
	for _, o := range ov {
		out = append(out, s.streamStatus(o, now))
	}
	return out, nil
}

func (s *Service) streamStatus(o store.Overview, now time.Time) StreamStatus {
	st := StreamStatus{Stream: o.Stream.Name, Frozen: Frozen(o.Stream, now), EOL: o.Stream.EOL,
		Newest: o.Newest.Tag, Findings: o.Newest.Scan.Counts, KEV: o.Newest.Scan.KEV}
	_, version, _ := SplitStream(o.Stream.Name)
	heads := map[string]store.Head{}
	for _, h := range o.Heads {
		heads[h.Channel] = h
	}
	chs := s.channels()
	for i, ch := range chs {
		h, ok := heads[ch.Name]
		if ok {
			st.Channels = append(st.Channels, ChannelStatus{Channel: ch.Name, Tag: ch.Tag(version), Release: h.Release.Tag,
				Digest: h.Release.Digest, Since: h.Since, Age: now.Sub(h.Since)})
		}
		if i == 0 || st.Frozen || st.Next != nil {
			continue
		}
		src, ok := heads[chs[i-1].Name]
		if !ok || (heads[ch.Name].Release.ID == src.Release.ID) || !src.Release.RolledBack.IsZero() {
			continue
		}
		n := &Next{Release: src.Release.Tag, To: ch.Name, Date: src.Since.Add(ch.Soak)}
		if ch.FullTests && (!src.Release.Tests.Passed || src.Release.Tests.Suite != "full") {
			n.Waiting = "full tests"
		}
		st.Next = n
	}
	return st
}

// History is a stream's releases and channel moves, with patch latency.
type History struct {
	Stream   string           `json:"stream"`
	Releases []ReleaseHistory `json:"releases"`
	Moves    []store.Move     `json:"moves"`
	// Failures are publish attempts a step stopped (nothing was pushed).
	Failures []store.Failure `json:"failures,omitempty"`
}

// ReleaseHistory is one release with the times that make patch latency.
type ReleaseHistory struct {
	store.Release
	// Reached is when the release first entered each channel.
	Reached map[string]time.Time `json:"reached"`
	// DetectLatency is archive published → detected; BuildLatency is
	// detected → built; ToProduction is archive published (or detected)
	// → first in the last channel. Zero when unknown.
	DetectLatency time.Duration `json:"detect_latency_ns"`
	BuildLatency  time.Duration `json:"build_latency_ns"`
	ToProduction  time.Duration `json:"to_production_ns"`
}

// History lists a stream's releases, newest first, and its moves.
func (s *Service) History(ctx context.Context, stream string) (History, error) {
	if _, err := s.Store.Stream(ctx, stream); err != nil {
		return History{}, err
	}
	rels, err := s.Store.Releases(ctx, stream)
	if err != nil {
		return History{}, err
	}
	moves, err := s.Store.Moves(ctx, stream)
	if err != nil {
		return History{}, err
	}
	reached := map[int64]map[string]time.Time{}
	for _, m := range moves {
		if reached[m.ReleaseID] == nil {
			reached[m.ReleaseID] = map[string]time.Time{}
		}
		if _, ok := reached[m.ReleaseID][m.Channel]; !ok {
			reached[m.ReleaseID][m.Channel] = m.At
		}
	}
	fails, err := s.Store.Failures(ctx, stream)
	if err != nil {
		return History{}, err
	}
	last := s.channels()[len(s.channels())-1].Name
	h := History{Stream: stream, Moves: moves, Failures: fails}
	for _, r := range rels {
		rh := ReleaseHistory{Release: r, Reached: reached[r.ID]}
		rh.DetectLatency = span(r.ArchivePublished, r.Detected)
		rh.BuildLatency = span(r.Detected, r.Built)
		start := r.ArchivePublished
		if start.IsZero() {
			start = r.Detected
		}
		rh.ToProduction = span(start, rh.Reached[last])
		h.Releases = append(h.Releases, rh)
	}
	return h, nil
}

func span(a, b time.Time) time.Duration {
	if a.IsZero() || b.IsZero() {
		return 0
	}
	return b.Sub(a)
}
