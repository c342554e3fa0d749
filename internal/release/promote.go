package release

import (
	"context"
	"fmt"
	"time"

	"github.com/temper-dev/temper/internal/store"
)

// PromotionPredicate is the in-toto predicate type of the promotion
// attestation attached to a digest when it enters a channel.
const PromotionPredicate = "https://temper.dev/promotion/v1"

// Promotion is one channel move, as attested: a deployer can check that a
// production digest came through the channels.
type Promotion struct {
	Stream  string    `json:"stream"`
	Release string    `json:"release"`
	Digest  string    `json:"digest"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to"`
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"`
	// Rule is the rule satisfied, or the override reason when forced.
	Rule string `json:"rule"`
}

// PromoteOptions override the rules (not the freeze) with a reason.
type PromoteOptions struct {
	Force  bool
	Reason string
}

// Moved is a channel move that happened, or Already when the channel
// held the release already.
type Moved struct {
	// Stream is the stream moved (PromoteGroup).
	Stream  string
	Move    store.Move
	Release store.Release
	Already bool
}

// Promote moves the release in the channel before `to` into `to` when the
// rules hold: not frozen, not rolled back, soaked, full tests passed, and
// the gate passes now. It moves stream alone; PromoteGroup moves a
// runtime and its variants together.
func (s *Service) Promote(ctx context.Context, stream, to string, opt PromoteOptions) (Moved, error) {
	p, err := s.plan(ctx, stream, to, opt)
	if err != nil {
		return Moved{}, err
	}
	return s.do(ctx, p)
}

// planned is a promotion whose rules held, not yet done.
type planned struct {
	stream     string
	src        store.Release
	from       string
	ch         Channel
	kind, rule string
	already    bool // the channel holds src already
}

// plan checks the promotion of stream's release into `to` without moving
// anything.
func (s *Service) plan(ctx context.Context, stream, to string, opt PromoteOptions) (planned, error) {
	st, err := s.Store.Stream(ctx, stream)
	if err != nil {
		return planned{}, err
	}
	ch, i, err := s.channel(to)
	if err != nil {
		return planned{}, err
	}
	if i == 0 {
		return planned{}, fmt.Errorf("%s is the first channel: releases enter it when published", to)
	}
	if err := s.checkFrozen(ctx, st, to); err != nil {
		return planned{}, err
	}
	from := s.channels()[i-1]
	heads, err := s.heads(ctx, stream)
	if err != nil {
		return planned{}, err
	}
	src, ok := heads[from.Name]
	if !ok {
		return planned{}, fmt.Errorf("%s: no release in %s to promote", stream, from.Name)
	}
	p := planned{stream: stream, src: src.Release, from: from.Name, ch: ch}
	if cur, ok := heads[to]; ok && cur.Release.ID == src.Release.ID {
		p.already = true
		return p, nil
	}
	p.kind = store.KindPromote
	if opt.Force {
		if opt.Reason == "" {
			return planned{}, fmt.Errorf("--force needs --reason")
		}
		p.kind, p.rule = store.KindForce, "forced: "+opt.Reason
	} else if p.rule, err = s.rules(ctx, stream, src, from, ch); err != nil {
		return planned{}, err
	}
	return p, nil
}

// do carries out a planned promotion.
func (s *Service) do(ctx context.Context, p planned) (Moved, error) {
	if p.already {
		return Moved{Release: p.src, Already: true}, nil
	}
	return s.move(ctx, p.stream, p.src, p.from, p.ch, p.kind, p.rule, 0)
}

// rules checks promotion of src (the head of from) into ch, and says
// which rules were satisfied.
func (s *Service) rules(ctx context.Context, stream string, src store.Head, from, ch Channel) (string, error) {
	r := src.Release
	refuse := func(rule, reason string) *Refusal {
		return &Refusal{Stream: stream, Release: r.Tag, Channel: ch.Name, Rule: rule, Reason: reason}
	}
	if !r.RolledBack.IsZero() {
		return "", refuse("rolled-back", fmt.Sprintf("rolled back %s (%s); promote with --force --reason", r.RolledBack.Format(time.DateOnly), r.RollbackReason))
	}
	if eligible := src.Since.Add(ch.Soak); s.now().Before(eligible) {
		f := refuse("soak", fmt.Sprintf("in %s since %s, %s must pass first", from.Name, src.Since.UTC().Format("2006-01-02 15:04"), days(ch.Soak)))
		f.Eligible = eligible
		return "", f
	}
	if ch.FullTests && (!r.Tests.Passed || r.Tests.Suite != "full") {
		return "", refuse("tests", "the full test suite has not passed (the weekly snapshot runs it)")
	}
	gate := r.Gate
	if s.Gate != nil {
		var err error
		if gate, err = s.Gate(ctx, stream, r); err != nil {
			return "", fmt.Errorf("%s %s: gate: %w", stream, r.Tag, err)
		}
	}
	if !gate.Passed {
		return "", refuse("gate", gate.Summary)
	}
	return fmt.Sprintf("soak %s in %s, tests %s, gate passed", days(ch.Soak), from.Name, testsWord(ch)), nil
}

func testsWord(ch Channel) string {
	if ch.FullTests {
		return "full"
	}
	return "as published"
}

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// move retags the channel to rel's digest, records the move, and attests.
// The tag moves first: if recording fails, the tag has drifted from the
// store and Repair puts it back; rerunning the command redoes the move.
func (s *Service) move(ctx context.Context, stream string, rel store.Release, from string, ch Channel, kind, reason string, rolledBack int64) (Moved, error) {
	name, version, err := SplitStream(stream)
	if err != nil {
		return Moved{}, err
	}
	if err := s.Tags.Put(ctx, name, ch.Tag(version), rel.Digest); err != nil {
		return Moved{}, fmt.Errorf("%s %s → %s: %w", stream, rel.Tag, ch.Name, err)
	}
	m := store.Move{Stream: stream, Channel: ch.Name, ReleaseID: rel.ID, Tag: rel.Tag, From: from, Kind: kind, Reason: reason, At: s.now()}
	if err := s.Store.Move(ctx, m, rolledBack); err != nil {
		return Moved{}, err
	}
	if err := s.attest(ctx, rel, m); err != nil {
		return Moved{Move: m, Release: rel}, fmt.Errorf("%s %s → %s: moved, but the promotion attestation failed: %w", stream, rel.Tag, ch.Name, err)
	}
	return Moved{Move: m, Release: rel}, nil
}

// attest hands a recorded move to the Attest hook.
func (s *Service) attest(ctx context.Context, rel store.Release, m store.Move) error {
	if s.Attest == nil {
		return nil
	}
	return s.Attest(ctx, Promotion{Stream: m.Stream, Release: rel.Tag, Digest: rel.Digest, From: m.From, To: m.Channel, Time: m.At, Kind: m.Kind, Rule: m.Reason})
}
