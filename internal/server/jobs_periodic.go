package server

import (
	"context"
	"errors"

	"github.com/temper-dev/temper/internal/pipeline"
	"github.com/temper-dev/temper/internal/release"
)

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
	// A runtime and its variants move together (release.FastTrack moves
	// the group of the stream named): each group once.
	groups, err := svc.Groups(ctx, streams)
	if err != nil {
		return err
	}
	for _, g := range groups {
		st := g[0]
		if stream != "" {
			st = stream
		}
		ft, err := svc.FastTrack(ctx, st, "", tests)
		var r *release.Refusal
		switch {
		case errors.As(err, &r):
			s.log.Info("fast track: refused", "stream", st, "reason", err.Error())
		case err != nil:
			return err
		}
		for _, m := range ft.Moves {
			s.log.Info("fast-tracked", "stream", m.Stream, "tag", m.Release.Tag, "to", m.Move.Channel, "reason", m.Move.Reason)
			s.metrics.moved(m)
		}
	}
	return nil
}
