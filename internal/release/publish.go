package release

import (
	"context"
	"errors"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/store"
)

// Candidate is a built, tested and scanned image the pipeline hands to
// Publish.
type Candidate struct {
	Stream store.Stream
	// Index is the image index to push; nil when Digest is already stored
	// in the registry (then only tags are written).
	Index      v1.ImageIndex
	Digest     string
	LockDigest string
	BuildKey   string
	Packages   []store.PackageChange
	CVEsFixed  []store.CVE
	Tests      store.Result
	Scan       store.Result
	Gate       store.Result
	// Lock is the lock's canonical text, kept with the release.
	Lock string
	// Evidence, when set, is the build's signatures and attestations,
	// written (Tags must implement Artifacts) after the immutable tag and
	// before the first channel's.
	Evidence *attest.Bundle

	ArchivePublished, Detected, Built time.Time
}

// Published is what Publish did.
type Published struct {
	Release store.Release
	// Created is false when the build key already had a release.
	Created bool
	// Reconciled is true when a previous run had pushed the tag but not
	// recorded it, and this run recorded it without pushing again.
	Reconciled bool
}

// Publish records a candidate as its stream's next release, pushes its
// immutable tag and sets the first channel. Order matters for crashes:
// the release is reserved (its tag and number taken, pending) before
// anything is pushed, and confirmed after; a later run finds the pending
// release, reads the tag back, and pushes only what is missing. Publishing
// the same build key again returns the release it made.
func (s *Service) Publish(ctx context.Context, c Candidate) (Published, error) {
	name, version, err := SplitStream(c.Stream.Name)
	if err != nil {
		return Published{}, err
	}
	if err := c.check(); err != nil {
		s.recordFailure(ctx, c, err.rule, err.reason)
		return Published{}, &Refusal{Stream: c.Stream.Name, Rule: err.rule, Reason: err.reason}
	}
	if err := s.Store.PutStream(ctx, c.Stream); err != nil {
		return Published{}, err
	}
	st, err := s.Store.Stream(ctx, c.Stream.Name)
	if err != nil {
		return Published{}, err
	}
	first := s.channels()[0]
	if err := s.checkFrozen(ctx, st, first.Name); err != nil {
		s.recordFailure(ctx, c, "frozen", err.Error())
		return Published{}, err
	}
	now := s.now()
	rel, created, err := s.Store.ReserveRelease(ctx, c.release(now), func(n int) string { return ReleaseTag(version, now, n) })
	if err != nil {
		return Published{}, err
	}
	if rel.State == store.Published {
		return Published{Release: rel, Created: false}, nil
	}
	if rel.Digest != c.Digest {
		return Published{}, fmt.Errorf("%s: build key %s was reserved as %s with digest %s, now built as %s: the build is not reproducible",
			c.Stream.Name, c.BuildKey, rel.Tag, rel.Digest, c.Digest)
	}
	reconciled, err := s.pushImmutable(ctx, name, rel, c.Index)
	if err != nil {
		s.recordFailure(ctx, c, "push", err.Error())
		return Published{}, err
	}
	if err := s.putEvidence(ctx, name, c.Evidence); err != nil {
		s.recordFailure(ctx, c, "sign", err.Error())
		return Published{}, err
	}
	if err := s.Tags.Put(ctx, name, first.Tag(version), rel.Digest); err != nil {
		s.recordFailure(ctx, c, "push", err.Error())
		return Published{}, fmt.Errorf("%s: channel %s: %w", rel.Tag, first.Name, err)
	}
	m := store.Move{Stream: c.Stream.Name, Channel: first.Name, Kind: store.KindPublish, Reason: publishRule(c), At: s.now()}
	rel, err = s.Store.ConfirmRelease(ctx, rel.ID, s.now(), m)
	if err != nil {
		return Published{}, err
	}
	out := Published{Release: rel, Created: created, Reconciled: reconciled}
	if err := s.attest(ctx, rel, m); err != nil {
		return out, fmt.Errorf("%s %s → %s: published, but the promotion attestation failed: %w", c.Stream.Name, rel.Tag, first.Name, err)
	}
	return out, nil
}

// publishRule is what the first channel's move records as satisfied.
func publishRule(c Candidate) string {
	gate := "gate passed"
	if c.Gate.Summary != "" {
		gate = "gate: " + c.Gate.Summary
	}
	return "published: tests passed, " + gate
}

// putEvidence writes a build's signatures and attestations beside the
// image.
func (s *Service) putEvidence(ctx context.Context, repo string, b *attest.Bundle) error {
	if b == nil {
		return nil
	}
	a, ok := s.Tags.(Artifacts)
	if !ok {
		return fmt.Errorf("%T cannot store signatures", s.Tags)
	}
	return a.PutBundle(ctx, repo, b)
}

// recordFailure keeps a refused or failed publish attempt; a failure to
// record it must not hide the original error, so it is dropped.
func (s *Service) recordFailure(ctx context.Context, c Candidate, step, msg string) {
	_ = s.Store.RecordFailure(ctx, store.Failure{Stream: c.Stream.Name, BuildKey: c.BuildKey, Step: step, Message: msg, At: s.now()})
}

// pushImmutable pushes a pending release's tag unless a previous run
// already did; it never moves an immutable tag that names another digest.
func (s *Service) pushImmutable(ctx context.Context, repo string, rel store.Release, idx v1.ImageIndex) (reconciled bool, err error) {
	got, err := s.Tags.Get(ctx, repo, rel.Tag)
	switch {
	case err == nil && got == rel.Digest:
		return true, nil
	case err == nil:
		return false, fmt.Errorf("%s:%s already names %s, not %s: an immutable tag is never moved", repo, rel.Tag, got, rel.Digest)
	case !errors.Is(err, ErrNoTag):
		return false, err
	}
	if idx != nil {
		err = s.Tags.Push(ctx, repo, rel.Tag, idx)
	} else {
		err = s.Tags.Put(ctx, repo, rel.Tag, rel.Digest)
	}
	if err != nil {
		return false, fmt.Errorf("push %s:%s: %w", repo, rel.Tag, err)
	}
	return false, nil
}

type candidateError struct{ rule, reason string }

// check refuses a candidate whose tests or gate failed: nothing is pushed.
func (c Candidate) check() *candidateError {
	switch {
	case c.Digest == "" || c.BuildKey == "":
		return &candidateError{"incomplete", "no digest or build key"}
	case !c.Tests.Passed:
		return &candidateError{"tests", "tests failed: " + c.Tests.Summary}
	case !c.Gate.Passed:
		return &candidateError{"gate", "gate failed: " + c.Gate.Summary}
	}
	return nil
}

func (c Candidate) release(now time.Time) store.Release {
	return store.Release{
		Stream: c.Stream.Name, Day: Day(now), Digest: c.Digest, LockDigest: c.LockDigest, BuildKey: c.BuildKey,
		Packages: c.Packages, CVEsFixed: c.CVEsFixed, Tests: c.Tests, Scan: c.Scan, Gate: c.Gate,
		ArchivePublished: c.ArchivePublished, Detected: c.Detected, Built: c.Built, Lock: c.Lock,
	}
}
