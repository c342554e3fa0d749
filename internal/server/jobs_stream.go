package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/pipeline"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/update"
)

// runStream is one stream's update → lock → build → test → scan → sign →
// publish.
func (s *Server) runStream(ctx context.Context, job *river.Job[StreamArgs]) error {
	a := job.Args
	logs := &tail{max: 64 << 10}
	msg, locks, err := s.updateLock(ctx, a)
	if err != nil {
		var c *cancel
		if errors.As(err, &c) {
			return river.JobCancel(err)
		}
		return err
	}
	if msg != "" && s.cfg.Git {
		if err := s.commitLocks(ctx, locks, msg); err != nil {
			return fmt.Errorf("git: %w", err)
		}
	}
	if s.cfg.Git {
		s.recordLockCommit(ctx, a.Stream, spec.LockPath(a.Definition)) // the dashboard's "lock commit"
	}
	p := s.publisher(logs)
	start := time.Now()
	o, err := p.One(ctx, a.Definition)
	s.metrics.buildDone(time.Since(start), err)
	if err != nil {
		if t := logs.String(); t != "" {
			err = fmt.Errorf("%w\n--- log ---\n%s", err, t)
		}
		var r *release.Refusal
		if errors.As(err, &r) {
			return river.JobCancel(err) // the rules refused; nothing to retry
		}
		return err
	}
	// The runtime and its variants (docs/variants.md): each is either
	// released before (its build key) or published by this job.
	for _, o := range append([]pipeline.Outcome{o}, o.Variants...) {
		if o.Already != nil {
			s.log.Info("already released", "stream", o.Stream, "tag", o.Already.Tag)
			continue
		}
		r := o.Published.Release
		if r.Tag == "" {
			continue
		}
		s.log.Info("published", "stream", o.Stream, "tag", r.Tag, "digest", r.Digest, "cves_fixed", len(r.CVEsFixed), "reconciled", o.Published.Reconciled)
		s.metrics.published(r)
		if len(r.CVEsFixed) > 0 {
			s.insert(ctx, FastTrackArgs{Stream: o.Stream})
		}
	}
	return nil
}

// cancel is an error no retry can fix.
type cancel struct{ error }

func (c *cancel) Unwrap() error { return c.error }

// updateLock brings the definition's locks up to date: the first locks,
// or the check's plan applied to the runtime's lock and its variants'
// (docs/variants.md: they move together). It returns the commit message
// ("" when no lock changed) and the lock files written.
func (s *Server) updateLock(ctx context.Context, a StreamArgs) (string, []string, error) {
	opt, err := s.cfg.Update()
	if err != nil {
		return "", nil, err
	}
	rep, err := update.Check(ctx, []string{a.Definition}, opt)
	if err != nil {
		return "", nil, err
	}
	img := rep.Images[0]
	switch img.Verdict {
	case update.NotLocked:
		outs, err := lock.Run(ctx, []string{a.Definition}, lock.Options{Client: opt.Client})
		if err != nil {
			return "", nil, err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s: first lock\n\n", a.Stream)
		var locks []string
		for _, o := range outs {
			if o.Err != nil {
				return "", nil, o.Err
			}
			locks = append(locks, o.LockPath)
			fmt.Fprintf(&b, "%s (%s)\n", o.LockPath, img.Release)
		}
		return b.String(), locks, nil
	case update.Failed:
		return "", nil, errors.New(img.Error)
	case update.Blocked:
		return "", nil, &cancel{fmt.Errorf("%s: blocked: %s", a.Stream, strings.Join(img.Reasons, "; "))}
	case update.UpToDate:
		return "", nil, nil
	}
	applied, err := update.Apply(rep, update.ApplyOptions{})
	if err != nil {
		return "", nil, err
	}
	if len(applied) == 0 || applied[0].Action != update.ActionWritten {
		return "", nil, nil
	}
	var b strings.Builder
	update.WriteChangelog(&b, img)
	return b.String(), applied[0].Locks, nil
}

// publisher is the pipeline with today's vulnerability data.
func (s *Server) publisher(logs *tail) *pipeline.Publisher {
	opt := s.cfg.Build
	opt.Log = logs
	return &pipeline.Publisher{Svc: s.cfg.Service, Build: opt, Test: s.cfg.Test,
		Gate:    pipeline.NewGate(s.cfg.Cache, s.cfg.Policy, s.cfg.Exceptions, s.cfg.SkipGate, false, s.cfg.Now()),
		Support: s.cfg.Support, DistroInfo: s.cfg.DistroInfo, Warn: logs, Now: s.cfg.Now, FailureLog: logs.String}
}
