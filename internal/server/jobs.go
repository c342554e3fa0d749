package server

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
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

func (s *Server) insert(ctx context.Context, args river.JobArgs) {
	if _, err := s.jobs.insert(ctx, args, nil); err != nil {
		s.log.Error("enqueue", "kind", args.Kind(), "error", err)
	}
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
