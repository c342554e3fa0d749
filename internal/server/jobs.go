package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/pipeline"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/update"
)

// Job kinds, as River records them.
const (
	KindCheck      = "check"
	KindStream     = "stream"
	KindVulnUpdate = "vuln-update"
	KindSnapshot   = "snapshot"
	KindPromote    = "promote"
	KindFastTrack  = "fast-track"
)

// CheckArgs: compare every lock with the archive; enqueue a stream job
// for each definition with updates, without a lock, or without a release
// of its build.
type CheckArgs struct {
	// Reason says who asked: schedule or api.
	Reason string `json:"reason,omitempty"`
}

func (CheckArgs) Kind() string { return KindCheck }

// StreamArgs: update → lock → build → test → scan → sign → publish for one
// stream. Unique by Stream and Key: the build key when the lock is
// current, otherwise the build key of the lock it starts from plus the
// digest of the plan (the same archive change never runs twice).
type StreamArgs struct {
	Stream     string `json:"stream" river:"unique"`
	Key        string `json:"key" river:"unique"`
	Definition string `json:"definition"`
	// Plan is what the check found: "security", "updates", "not-locked",
	// "unreleased".
	Plan string `json:"plan"`
	// Detected is when the check found it.
	Detected time.Time `json:"detected"`
}

func (StreamArgs) Kind() string { return KindStream }

// VulnUpdateArgs: fetch the tracker, KEV and EPSS; then fast-track.
type VulnUpdateArgs struct{}

func (VulnUpdateArgs) Kind() string { return KindVulnUpdate }

// SnapshotArgs: the weekly snapshot.
type SnapshotArgs struct{}

func (SnapshotArgs) Kind() string { return KindSnapshot }

// PromoteArgs: promote every stream into every channel after the second
// (the snapshot fills the second) when the rules hold.
type PromoteArgs struct{}

func (PromoteArgs) Kind() string { return KindPromote }

// FastTrackArgs: fast-track one stream, or every eligible one.
type FastTrackArgs struct {
	Stream string `json:"stream,omitempty"`
}

func (FastTrackArgs) Kind() string { return KindFastTrack }

// work adapts a function to River's Worker.
type work[T river.JobArgs] struct {
	river.WorkerDefaults[T]
	s *Server
	f func(ctx context.Context, job *river.Job[T]) error
}

func (w *work[T]) Work(ctx context.Context, job *river.Job[T]) error {
	start := time.Now()
	log := w.s.log.With("job", job.ID, "kind", job.Kind, "attempt", job.Attempt)
	log.Info("job started", "args", string(job.EncodedArgs))
	err := w.f(ctx, job)
	w.s.metrics.jobDone(job.Kind, err)
	if err != nil {
		log.Error("job failed", "error", err, "seconds", time.Since(start).Seconds())
		return err
	}
	log.Info("job done", "seconds", time.Since(start).Seconds())
	return nil
}

// Stream jobs wait longer between attempts than River's default
// (attempt^4 s): a failed build is usually the archive or the registry.
func (w *work[T]) NextRetry(job *river.Job[T]) time.Time {
	d := time.Duration(job.Attempt*job.Attempt) * 10 * time.Second
	return time.Now().Add(min(d, time.Hour))
}

func add[T river.JobArgs](ws *river.Workers, s *Server, f func(context.Context, *river.Job[T]) error) {
	river.AddWorker(ws, &work[T]{s: s, f: f})
}

// Queues: the stream jobs run on their own queue so that a long build
// never holds back a check.
const queueStreams = "streams"

func (s *Server) riverConfig() (*river.Config, error) {
	ws := river.NewWorkers()
	add(ws, s, func(ctx context.Context, j *river.Job[CheckArgs]) error { return s.runCheck(ctx) })
	add(ws, s, s.runStream)
	add(ws, s, func(ctx context.Context, j *river.Job[VulnUpdateArgs]) error { return s.runVulnUpdate(ctx) })
	add(ws, s, func(ctx context.Context, j *river.Job[SnapshotArgs]) error { return s.runSnapshot(ctx) })
	add(ws, s, func(ctx context.Context, j *river.Job[PromoteArgs]) error { return s.runPromote(ctx) })
	add(ws, s, func(ctx context.Context, j *river.Job[FastTrackArgs]) error {
		return s.runFastTrack(ctx, j.Args.Stream)
	})
	sc := s.cfg.Schedule
	var periodic []*river.PeriodicJob
	for _, p := range []struct {
		spec  string
		args  river.JobArgs
		start bool
	}{{sc.Check, CheckArgs{Reason: "schedule"}, true}, {sc.VulnUpdate, VulnUpdateArgs{}, true}, {sc.Snapshot, SnapshotArgs{}, false}, {sc.Promote, PromoteArgs{}, false}} {
		next, err := ParseSchedule(p.spec)
		if err != nil {
			return nil, err
		}
		args := p.args
		// Only the leader inserts periodic jobs; the uniqueness by
		// period keeps a new leader from inserting a second one in the
		// same period.
		period := periodOf(next)
		periodic = append(periodic, river.NewPeriodicJob(next, func() (river.JobArgs, *river.InsertOpts) {
			return args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: period}}
		}, &river.PeriodicJobOpts{ID: args.Kind(), RunOnStart: p.start}))
	}
	return &river.Config{
		ID:      fmt.Sprintf("temper-%s-%d", hostname(), os.Getpid()),
		Logger:  s.log.With("component", "river"),
		Workers: ws,
		Queues: map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: 2},
			queueStreams:       {MaxWorkers: s.cfg.Workers},
		},
		PeriodicJobs: periodic,
		// --rescue-after is how long a job may run: its context ends then
		// and, if its node is gone, River's rescuer (on the leader, every
		// 30 s) hands it to another node. The rescuer ignores jobs whose
		// timeout is infinite (-1), so the two must be the same duration.
		JobTimeout:           s.cfg.RescueAfter,
		RescueStuckJobsAfter: s.cfg.RescueAfter,
		MaxAttempts:          5,
		FetchPollInterval:    time.Second,
	}, nil
}

// periodOf is the uniqueness period of a schedule: its interval, at
// least a second.
func periodOf(n Next) time.Duration {
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	a := n.Next(t0)
	d := n.Next(a).Sub(a)
	return max(d, time.Second)
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

// enqueue inserts a stream job unless one with the same stream and key
// exists (River's unique jobs: pending, running, retrying or done).
func (s *Server) enqueue(ctx context.Context, a StreamArgs) bool {
	res, err := s.jobs.insert(ctx, a, &river.InsertOpts{Queue: queueStreams, UniqueOpts: river.UniqueOpts{ByArgs: true}})
	switch {
	case err != nil:
		s.log.Error("enqueue stream job", "stream", a.Stream, "error", err)
	case res.UniqueSkippedAsDuplicate:
		s.log.Debug("stream job already queued or done", "stream", a.Stream, "key", a.Key)
	default:
		s.log.Info("stream job queued", "stream", a.Stream, "plan", a.Plan, "key", short(a.Key), "job", res.Job.ID)
		return true
	}
	return false
}

func short(k string) string {
	if len(k) > 12 {
		return k[:12]
	}
	return k
}

// released remembers, per definition, the lock and definition file
// states whose build key already has a release, so an idle check does not
// parse every lock again.
type releasedMemo struct {
	mu sync.Mutex
	m  map[string]string
}

func fileState(paths ...string) string {
	var b strings.Builder
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return ""
		}
		fmt.Fprintf(&b, "%s %d %d;", p, fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String()
}

// runCheck is the periodic check.
func (s *Server) runCheck(ctx context.Context) error {
	start := time.Now()
	if files, err := spec.FindDefinitions([]string{s.cfg.Catalog}); err == nil && len(files) == 0 {
		s.log.Warn("check: no definitions in the catalog", "catalog", s.cfg.Catalog)
		s.metrics.checkDone(time.Since(start), nil)
		return nil
	}
	opt, err := s.cfg.Update()
	if err != nil {
		return err
	}
	rep, err := update.Check(ctx, []string{s.cfg.Catalog}, opt)
	s.metrics.checkDone(time.Since(start), err)
	if err != nil {
		return err
	}
	states := map[string]int{}
	security, queued := false, 0
	now := s.cfg.Now()
	for _, img := range rep.Images {
		state, a := s.planFor(ctx, img, now)
		s.recordCheck(ctx, img, now) // the dashboard's "last check"
		states[state]++
		if a != nil && s.enqueue(ctx, *a) {
			queued++
		}
		if img.Verdict == update.Security {
			security = true
		}
	}
	s.metrics.setStreams(states)
	s.log.Info("check done", "definitions", len(rep.Images), "queued", queued, "seconds", time.Since(start).Seconds())
	if security {
		s.insert(ctx, FastTrackArgs{})
	}
	return nil
}

// planFor is a checked image's state and the stream job it needs (nil:
// none).
func (s *Server) planFor(ctx context.Context, img *update.Image, now time.Time) (string, *StreamArgs) {
	a := &StreamArgs{Definition: img.Definition, Detected: now}
	if def, err := spec.LoadDefinition(img.Definition); err == nil {
		a.Stream = build.RefName(def)
	}
	switch img.Verdict {
	case update.Failed:
		s.log.Error("check failed", "definition", img.Definition, "error", img.Error)
		return "error", nil
	case update.NotLocked:
		a.Plan, a.Key = "not-locked", "lock:"+fileDigest(img.Definition)
		return "updates-pending", a
	case update.Security, update.Updates:
		plan, _ := json.Marshal(img.Changes)
		a.Plan, a.Key = string(img.Verdict), "plan:"+fileDigest(img.Lock)+":"+digest(plan)
		return "updates-pending", a
	case update.Blocked:
		if img.EOL != nil && img.EOL.Frozen() {
			return "frozen", nil
		}
		return "blocked", nil
	}
	// Released: the runtime's build key and each variant's
	// (docs/variants.md) have a release, so a change to a variant's lock
	// alone is published too.
	def, err := spec.LoadDefinition(img.Definition)
	if err != nil {
		return "error", nil
	}
	paths := []string{img.Definition, img.Lock}
	for _, v := range def.VariantNames() {
		paths = append(paths, spec.VariantLockPath(img.Definition, v))
	}
	fs := fileState(paths...)
	s.memo.mu.Lock()
	done := fs != "" && s.memo.m[img.Definition] == fs
	s.memo.mu.Unlock()
	if done {
		return "up-to-date", nil
	}
	var keys []string
	released := true
	for _, v := range append([]string{""}, def.VariantNames()...) {
		td, l, err := build.LoadTarget(img.Definition, v)
		if err != nil {
			return "error", nil
		}
		key := build.BuildKey(td, l)
		keys = append(keys, key)
		if _, ok := pipeline.Released(ctx, s.cfg.Store, build.RefName(td), key); !ok {
			released = false
		}
	}
	if released {
		s.memo.mu.Lock()
		s.memo.m[img.Definition] = fs
		s.memo.mu.Unlock()
		return "up-to-date", nil
	}
	// The job's key: the runtime's build key alone when there are no
	// variants (as before), otherwise the digest of every image's.
	a.Plan, a.Key = "unreleased", keys[0]
	if len(keys) > 1 {
		a.Key = "keys:" + digest([]byte(strings.Join(keys, " ")))
	}
	return "updates-pending", a
}

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func fileDigest(p string) string {
	b, _ := os.ReadFile(p)
	return digest(b)
}

func (s *Server) insert(ctx context.Context, args river.JobArgs) {
	if _, err := s.jobs.insert(ctx, args, nil); err != nil {
		s.log.Error("enqueue", "kind", args.Kind(), "error", err)
	}
}

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

func (s *Server) runVulnUpdate(ctx context.Context) error {
	got, err := pipeline.UpdateVulns(ctx, s.cfg.Cache, s.cfg.VulnSources, s.cfg.Now)
	for _, f := range got {
		s.log.Info("vulnerability data", "kind", f.Kind, "outcome", f.Outcome, "url", f.State.URL)
	}
	s.details.reload() // the dashboard's descriptions and EPSS
	if err != nil {
		return err
	}
	s.insert(ctx, FastTrackArgs{})
	return nil
}

// todayService is the release service with today's gate and KEV data.
func (s *Server) todayService() *release.Service {
	svc := *s.cfg.Service
	pipeline.NewGate(s.cfg.Cache, s.cfg.Policy, s.cfg.Exceptions, "", false, s.cfg.Now()).UseToday(&svc, s.cfg.Now)
	return &svc
}

func (s *Server) runSnapshot(ctx context.Context) error {
	svc := s.todayService()
	run, err := svc.Snapshot(ctx, nil, pipeline.ReleaseTests(svc, s.cfg.Test, "full"))
	if err != nil {
		return err
	}
	for _, r := range run.Snapshot.Results {
		s.log.Info("snapshot", "stream", r.Stream, "tag", r.Tag, "passed", r.Passed, "summary", r.Summary)
	}
	for _, m := range run.Promoted {
		s.metrics.moved(m)
	}
	for _, e := range run.Refused {
		s.log.Info("snapshot: refused", "reason", e.Error())
	}
	return nil
}

func (s *Server) runPromote(ctx context.Context) error {
	svc := s.todayService()
	chs := svc.Channels
	if len(chs) == 0 {
		chs = release.DefaultChannels()
	}
	streams, err := svc.Store.Streams(ctx)
	if err != nil {
		return err
	}
	// A runtime and its variants move together (docs/variants.md): each
	// group once, the refusal of one member holding back the others.
	done := map[string]bool{}
	for _, st := range streams {
		if done[st.Name] {
			continue
		}
		group, err := svc.Group(ctx, st.Name)
		if err != nil {
			return err
		}
		for _, m := range group {
			done[m] = true
		}
		for _, ch := range chs[min(2, len(chs)):] {
			ms, err := svc.PromoteGroup(ctx, st.Name, ch.Name, release.PromoteOptions{})
			for _, m := range ms {
				if !m.Already {
					s.log.Info("promoted", "stream", m.Stream, "tag", m.Release.Tag, "to", ch.Name)
					s.metrics.moved(m)
				}
			}
			var r *release.Refusal
			switch {
			case errors.As(err, &r):
				s.log.Info("promote: refused", "stream", group[0], "to", ch.Name, "reason", err.Error())
			case err != nil:
				return err
			}
		}
	}
	return nil
}

func (s *Server) runFastTrack(ctx context.Context, stream string) error {
	svc := s.todayService()
	if svc.Vulns == nil {
		s.log.Info("fast track: no vulnerability data yet")
		return nil
	}
	streams := []string{stream}
	if stream == "" {
		var err error
		if streams, err = svc.EligibleStreams(ctx); err != nil {
			return err
		}
	}
	tests := pipeline.ReleaseTests(svc, s.cfg.Test, "essential")
	for _, st := range streams {
		ft, err := svc.FastTrack(ctx, st, "", tests)
		var r *release.Refusal
		switch {
		case errors.As(err, &r):
			s.log.Info("fast track: refused", "stream", st, "reason", err.Error())
		case err != nil:
			return err
		}
		for _, m := range ft.Moves {
			s.log.Info("fast-tracked", "stream", st, "tag", m.Release.Tag, "to", m.Move.Channel, "reason", m.Move.Reason)
			s.metrics.moved(m)
		}
	}
	return nil
}

// tail keeps the last max bytes written (a job's log).
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

var _ rivertype.JobArgs = CheckArgs{}
