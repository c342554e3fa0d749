package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/temper-dev/temper/internal/pipeline"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/store"
)

// routes mounts the API (docs/api.md, docs/openapi.yaml).
func (s *Server) routes() {
	s.Handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}), Open)
	s.Handle("GET /readyz", http.HandlerFunc(s.readyz), Open)
	s.Handle("GET /metrics", s.metrics.handler(), Read)
	s.Handle("GET /api/v1/streams", http.HandlerFunc(s.getStreams), Read)
	s.Handle("GET /api/v1/streams/{name}/{version}", http.HandlerFunc(s.getStream), Read)
	s.Handle("GET /api/v1/releases/{tag}", http.HandlerFunc(s.getRelease), Read)
	s.Handle("GET /api/v1/jobs", http.HandlerFunc(s.getJobs), Read)
	s.Handle("GET /api/v1/findings", http.HandlerFunc(s.getFindings), Read)
	s.Handle("POST /api/v1/check", http.HandlerFunc(s.postCheck), Admin)
	s.Handle("POST /api/v1/promote", http.HandlerFunc(s.postPromote), Admin)
	s.Handle("POST /api/v1/rollback", http.HandlerFunc(s.postRollback), Admin)
	s.Handle("POST /api/v1/fast-track", http.HandlerFunc(s.postFastTrack), Admin)
	s.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API route: "+r.Method+" "+r.URL.Path)
	}), Read)
	s.mountDashboard()
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	select {
	case <-s.ready:
	default:
		writeError(w, http.StatusServiceUnavailable, "starting")
		return
	}
	if db, _, ok := store.DB(s.cfg.Store); ok {
		if err := db.PingContext(r.Context()); err != nil {
			writeError(w, http.StatusServiceUnavailable, "state database: "+err.Error())
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) getStreams(w http.ResponseWriter, r *http.Request) {
	rows, err := s.cfg.Service.Status(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if rows == nil {
		rows = []release.StreamStatus{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"streams": rows})
}

// StreamDetail is GET /api/v1/streams/{name}/{version}.
type StreamDetail struct {
	release.StreamStatus
	Releases []release.ReleaseHistory `json:"releases"`
	Moves    []store.Move             `json:"moves"`
	Failures []store.Failure          `json:"failures"`
	// Findings are the newest release's findings as its scan recorded them.
	OpenFindings []pipeline.FindingDetail `json:"open_findings"`
}

func (s *Server) getStream(w http.ResponseWriter, r *http.Request) {
	stream := r.PathValue("name") + ":" + r.PathValue("version")
	ctx := r.Context()
	if _, err := s.cfg.Store.Stream(ctx, stream); err != nil {
		notFoundOr500(w, err)
		return
	}
	h, err := s.cfg.Service.History(ctx, stream)
	if err != nil {
		notFoundOr500(w, err)
		return
	}
	d := StreamDetail{Releases: h.Releases, Moves: h.Moves, Failures: h.Failures, OpenFindings: []pipeline.FindingDetail{}}
	rows, _ := s.cfg.Service.Status(ctx)
	for _, row := range rows {
		if row.Stream == stream {
			d.StreamStatus = row
		}
	}
	if n := pipeline.Newest(ctx, s.cfg.Store, stream); n.ID != 0 {
		for _, f := range pipeline.Findings(n.Scan) {
			if f.Status == "fixable" || f.Status == "open" {
				d.OpenFindings = append(d.OpenFindings, f)
			}
		}
	}
	writeJSON(w, http.StatusOK, d)
}

func notFoundOr500(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	writeError(w, http.StatusInternalServerError, err.Error())
}

// getRelease finds a release by NAME:TAG, or by a bare TAG when one
// stream has it.
func (s *Server) getRelease(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	tag := r.PathValue("tag")
	var streams []string
	if name, t, ok := strings.Cut(tag, ":"); ok {
		tag = t
		all, err := s.cfg.Store.Streams(ctx)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		for _, st := range all {
			if n, _, _ := release.SplitStream(st.Name); n == name {
				streams = append(streams, st.Name)
			}
		}
	} else {
		all, err := s.cfg.Store.Streams(ctx)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		for _, st := range all {
			streams = append(streams, st.Name)
		}
	}
	var found []store.Release
	for _, st := range streams {
		if rel, err := s.cfg.Store.ReleaseByTag(ctx, st, tag); err == nil {
			found = append(found, rel)
		}
	}
	switch len(found) {
	case 0:
		writeError(w, http.StatusNotFound, "no release tagged "+r.PathValue("tag"))
	case 1:
		writeJSON(w, http.StatusOK, found[0])
	default:
		var names []string
		for _, f := range found {
			names = append(names, f.Stream)
		}
		writeError(w, http.StatusConflict, "tag "+tag+" is a release of several streams ("+strings.Join(names, ", ")+"); ask for NAME:TAG")
	}
}

// Job is one job in GET /api/v1/jobs.
type Job struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	State       string    `json:"state"`
	Args        any       `json:"args"`
	Attempt     int       `json:"attempt"`
	MaxAttempts int       `json:"max_attempts"`
	CreatedAt   time.Time `json:"created_at"`
	AttemptedAt time.Time `json:"attempted_at,omitzero"`
	FinalizedAt time.Time `json:"finalized_at,omitzero"`
	// Errors are the failed attempts, each with its log.
	Errors []JobError `json:"errors,omitempty"`
}

// JobError is one failed attempt.
type JobError struct {
	At      time.Time `json:"at"`
	Attempt int       `json:"attempt"`
	Error   string    `json:"error"`
}

func jobOf(j *rivertype.JobRow) Job {
	out := Job{ID: j.ID, Kind: j.Kind, State: string(j.State), Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, CreatedAt: j.CreatedAt}
	out.Args = rawJSON(j.EncodedArgs)
	if j.AttemptedAt != nil {
		out.AttemptedAt = *j.AttemptedAt
	}
	if j.FinalizedAt != nil {
		out.FinalizedAt = *j.FinalizedAt
	}
	for _, e := range j.Errors {
		out.Errors = append(out.Errors, JobError{At: e.At, Attempt: e.Attempt, Error: e.Error})
	}
	return out
}

type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("{}"), nil
	}
	return r, nil
}

// getJobs lists running and queued jobs, then the most recent finished
// ones (?limit=N, default 50, at most 500).
func (s *Server) getJobs(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeError(w, http.StatusBadRequest, "limit: want a number from 1 to 500")
			return
		}
		limit = n
	}
	ctx := r.Context()
	active, err := s.jobs.list(ctx, river.NewJobListParams().States(rivertype.JobStateRunning, rivertype.JobStateAvailable,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled, rivertype.JobStatePending).First(limit))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	recent, err := s.jobs.list(ctx, river.NewJobListParams().States(rivertype.JobStateCompleted, rivertype.JobStateCancelled,
		rivertype.JobStateDiscarded).OrderBy(river.JobListOrderByFinalizedAt, river.SortOrderDesc).First(limit))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := map[string][]Job{"running": {}, "recent": {}}
	for _, j := range active {
		k := "queued"
		if j.State == rivertype.JobStateRunning {
			k = "running"
		}
		out[k] = append(out[k], jobOf(j))
	}
	for _, j := range recent {
		out["recent"] = append(out["recent"], jobOf(j))
	}
	writeJSON(w, http.StatusOK, out)
}

// Finding is one open finding in GET /api/v1/findings.
type Finding struct {
	Stream  string `json:"stream"`
	Release string `json:"release"`
	pipeline.FindingDetail
}

func (s *Server) getFindings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var kev *bool
	if v := q.Get("kev"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "kev: want true or false")
			return
		}
		kev = &b
	}
	urgency, stream := q.Get("urgency"), q.Get("stream")
	ctx := r.Context()
	sts, err := s.cfg.Store.Streams(ctx)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := []Finding{}
	for _, st := range sts {
		if stream != "" && st.Name != stream {
			continue
		}
		n := pipeline.Newest(ctx, s.cfg.Store, st.Name)
		for _, f := range pipeline.Findings(n.Scan) {
			if f.Status != "fixable" && f.Status != "open" {
				continue
			}
			if (kev != nil && f.KEV != *kev) || (urgency != "" && f.Urgency != urgency) {
				continue
			}
			out = append(out, Finding{Stream: st.Name, Release: n.Tag, FindingDetail: f})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"findings": out})
}

func (s *Server) postCheck(w http.ResponseWriter, r *http.Request) {
	var body struct{}
	if !decode(w, r, &body) {
		return
	}
	res, err := s.jobs.insert(r.Context(), CheckArgs{Reason: "api"}, nil)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"job": jobOf(res.Job)})
}

// PromoteRequest is POST /api/v1/promote's body.
type PromoteRequest struct {
	Stream string `json:"stream"`
	To     string `json:"to"`
	Force  bool   `json:"force,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// writeStoreError answers an error of the release store: 404 for a
// stream or release it does not have, 500 for anything else.
func writeStoreError(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	writeError(w, http.StatusInternalServerError, err.Error())
}

// moveResult answers a move or its refusal (409, with the rule).
func moveResult(w http.ResponseWriter, m release.Moved, err error) {
	var ref *release.Refusal
	switch {
	case errors.As(err, &ref):
		writeJSON(w, http.StatusConflict, map[string]any{"error": err.Error(), "rule": ref.Rule})
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case err != nil:
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		writeJSON(w, http.StatusOK, map[string]any{"already": m.Already, "release": m.Release.Tag, "digest": m.Release.Digest, "move": m.Move})
	}
}

func (s *Server) postPromote(w http.ResponseWriter, r *http.Request) {
	var req PromoteRequest
	if !decode(w, r, &req) {
		return
	}
	switch {
	case req.Stream == "" || req.To == "":
		writeError(w, http.StatusBadRequest, `stream and to are required: {"stream": "NAME:VERSION", "to": "CHANNEL"}`)
		return
	case req.Force && req.Reason == "":
		writeError(w, http.StatusBadRequest, "force needs a reason")
		return
	}
	// A runtime and its variants move together (release.PromoteGroup);
	// the answer describes the stream asked for.
	svc := s.todayService()
	group, err := svc.PromoteGroup(r.Context(), req.Stream, req.To, release.PromoteOptions{Force: req.Force, Reason: req.Reason})
	var m release.Moved
	for _, g := range group {
		s.metrics.moved(g)
		if g.Stream == req.Stream || m.Stream == "" {
			m = g
		}
	}
	moveResult(w, m, err)
}

// RollbackRequest is POST /api/v1/rollback's body.
type RollbackRequest struct {
	Stream  string `json:"stream"`
	Channel string `json:"channel"`
	To      string `json:"to,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

func (s *Server) postRollback(w http.ResponseWriter, r *http.Request) {
	var req RollbackRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Stream == "" || req.Channel == "" {
		writeError(w, http.StatusBadRequest, `stream and channel are required: {"stream": "NAME:VERSION", "channel": "CHANNEL"}`)
		return
	}
	// A runtime and its variants go back together (release.RollbackGroup);
	// the answer describes the stream asked for.
	group, err := s.cfg.Service.RollbackGroup(r.Context(), req.Stream, req.Channel, req.To, req.Reason)
	var m release.Moved
	for _, g := range group {
		if g.Stream == req.Stream || m.Stream == "" {
			m = g
		}
	}
	moveResult(w, m, err)
}

// FastTrackRequest is POST /api/v1/fast-track's body.
type FastTrackRequest struct {
	Stream string `json:"stream,omitempty"`
	CVE    string `json:"cve,omitempty"`
}

func (s *Server) postFastTrack(w http.ResponseWriter, r *http.Request) {
	var req FastTrackRequest
	if !decode(w, r, &req) {
		return
	}
	ctx := r.Context()
	svc := s.todayService()
	if svc.Vulns == nil {
		writeError(w, http.StatusConflict, "fast track: no vulnerability data; the vuln-update job has not fetched any yet")
		return
	}
	streams := []string{req.Stream}
	if req.Stream == "" {
		var err error
		if streams, err = svc.EligibleStreams(ctx); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	type result struct {
		Stream  string          `json:"stream"`
		Release string          `json:"release,omitempty"`
		Moves   []release.Moved `json:"moves,omitempty"`
		Refused string          `json:"refused,omitempty"`
	}
	out := []result{}
	tests := pipeline.ReleaseTests(svc, s.cfg.Test, "essential")
	// A runtime and its variants move together (release.FastTrack moves
	// the group of the stream named; Moved.Stream names each): each once.
	groups, err := svc.Groups(ctx, streams)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	for _, g := range groups {
		st := g[0]
		if req.Stream != "" {
			st = req.Stream
		}
		ft, err := svc.FastTrack(ctx, st, req.CVE, tests)
		var ref *release.Refusal
		switch {
		case errors.As(err, &ref):
			out = append(out, result{Stream: st, Refused: err.Error()})
			continue
		case err != nil:
			writeStoreError(w, err)
			return
		}
		for _, m := range ft.Moves {
			s.metrics.moved(m)
		}
		out = append(out, result{Stream: st, Release: ft.Release.Tag, Moves: ft.Moves})
	}
	code := http.StatusOK
	if len(out) == 1 && out[0].Refused != "" {
		code = http.StatusConflict
	}
	writeJSON(w, code, map[string]any{"results": out})
}
