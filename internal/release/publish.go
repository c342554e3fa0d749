package release

import (
	"context"
	"errors"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

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
		return Published{}, err
	}
	if err := s.Tags.Put(ctx, name, first.Tag(version), rel.Digest); err != nil {
		return Published{}, fmt.Errorf("%s: channel %s: %w", rel.Tag, first.Name, err)
	}
	rel, err = s.Store.ConfirmRelease(ctx, rel.ID, s.now(), store.Move{Stream: c.Stream.Name, Channel: first.Name, Kind: store.KindPublish, At: s.now()})
	if err != nil {
		return Published{}, err
	}
	return Published{Release: rel, Created: created, Reconciled: reconciled}, nil
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
		ArchivePublished: c.ArchivePublished, Detected: c.Detected, Built: c.Built,
	}
}
