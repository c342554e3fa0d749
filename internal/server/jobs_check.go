package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/pipeline"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/update"
)

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
