package release

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/store"
)

var ctx = context.Background()

func refusal(t *testing.T, err error, rule string) *Refusal {
	t.Helper()
	var r *Refusal
	if !errors.As(err, &r) || r.Rule != rule {
		t.Fatalf("want a refusal by rule %s, got %v", rule, err)
	}
	return r
}

func TestPublishIdempotentAndNPerDay(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		py := stream("python:3.11-bookworm")
		p1 := fx.publish(t, py, "k1")
		if !p1.Created || p1.Release.Tag != "3.11-bookworm-20261129.1" {
			t.Fatalf("first: %+v", p1)
		}
		again := fx.publish(t, py, "k1")
		if again.Created || again.Release.ID != p1.Release.ID || fx.tags.pushes+fx.tags.puts != 2 {
			t.Fatalf("same build key published twice: %+v, %d pushes %d puts", again, fx.tags.pushes, fx.tags.puts)
		}
		if p2 := fx.publish(t, py, "k2"); p2.Release.Tag != "3.11-bookworm-20261129.2" {
			t.Fatalf("second of the day: %s", p2.Release.Tag)
		}
		fx.clock.add(24 * time.Hour)
		p3 := fx.publish(t, py, "k3")
		if p3.Release.Tag != "3.11-bookworm-20261130.1" {
			t.Fatalf("next day: %s", p3.Release.Tag)
		}
		if got := fx.tags.tag("python:3.11-bookworm-testing"); got != p3.Release.Digest {
			t.Fatalf("testing tag = %s, want %s", got, p3.Release.Digest)
		}
		if got := fx.tags.tag("python:3.11-bookworm-20261129.1"); got != p1.Release.Digest {
			t.Fatalf("immutable tag = %s", got)
		}
	})
}

// A crash after the push and before the record: the next run finds the
// pushed tag, records it, and pushes nothing twice.
func TestCrashBetweenPushedAndRecorded(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		py := stream("python:3.11-bookworm")
		fx.tags.failPut = func(tag string) bool { return strings.HasSuffix(tag, "-testing") }
		_, err := fx.svc.Publish(ctx, Candidate{Stream: py, Digest: digestOf("k1"), BuildKey: "k1", Tests: passed("essential"), Gate: store.Result{Passed: true}})
		if err == nil {
			t.Fatal("publish succeeded through a failing registry")
		}
		if fx.tags.tag("python:3.11-bookworm-20261129.1") == "" {
			t.Fatal("the immutable tag was not pushed before the crash")
		}
		fx.tags.failPut = nil
		fx.clock.add(25 * time.Hour) // the next run is another day: the reserved tag stays
		p := fx.publish(t, py, "k1")
		if !p.Reconciled || p.Release.Tag != "3.11-bookworm-20261129.1" || p.Release.State != store.Published {
			t.Fatalf("reconcile: %+v", p)
		}
		if fx.tags.puts != 2 {
			t.Fatalf("immutable tag pushed again: %d puts", fx.tags.puts)
		}
		rels, _ := fx.svc.Store.Releases(ctx, py.Name)
		if len(rels) != 1 {
			t.Fatalf("%d releases, want 1", len(rels))
		}
	})
}

// snapshotAndStage runs the weekly snapshot: the newest testing release
// passes the full suite and moves to staging.
func snapshotAndStage(t *testing.T, fx *fixture) {
	t.Helper()
	run, err := fx.svc.Snapshot(ctx, nil, passAll("full"))
	if err != nil || len(run.Promoted) == 0 || len(run.Refused) != 0 {
		t.Fatalf("snapshot: %+v %v", run, err)
	}
}

func TestSoakRefusalNamesEligibleDate(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		py := stream("python:3.11-bookworm")
		p := fx.publish(t, py, "k1")
		snapshotAndStage(t, fx)
		if got := fx.tags.tag("python:3.11-bookworm-staging"); got != p.Release.Digest {
			t.Fatalf("staging tag = %q", got)
		}
		fx.clock.add(3 * 24 * time.Hour)
		_, err := fx.svc.Promote(ctx, py.Name, "production", PromoteOptions{})
		r := refusal(t, err, "soak")
		want := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
		if !r.Eligible.Equal(want) || !strings.Contains(err.Error(), "eligible 2026-12-06 10:00 UTC") {
			t.Fatalf("eligible %v, message %q", r.Eligible, err)
		}
		st, _ := fx.svc.Status(ctx)
		if st[0].Next == nil || !st[0].Next.Date.Equal(want) || st[0].Next.To != "production" {
			t.Fatalf("status next = %+v", st[0].Next)
		}
		fx.clock.add(4 * 24 * time.Hour)
		m, err := fx.svc.Promote(ctx, py.Name, "production", PromoteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if m.Move.Kind != store.KindPromote || fx.tags.tag("python:3.11-bookworm") != p.Release.Digest {
			t.Fatalf("production: %+v, tag %s", m, fx.tags.tag("python:3.11-bookworm"))
		}
		h, err := fx.svc.History(ctx, py.Name)
		if err != nil || len(h.Moves) != 3 || h.Releases[0].Reached["production"].IsZero() {
			t.Fatalf("history: %+v %v", h, err)
		}
	})
}

func TestTestsAndGateRefusals(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		py := stream("python:3.11-bookworm")
		fx.publish(t, py, "k1")
		_, err := fx.svc.Promote(ctx, py.Name, "staging", PromoteOptions{})
		refusal(t, err, "tests")
		fx.svc.Gate = func(context.Context, string, store.Release) (store.Result, error) {
			return store.Result{Passed: false, Summary: "CVE-2026-1234 (high, fixable) is open"}, nil
		}
		run, err := fx.svc.Snapshot(ctx, nil, passAll("full"))
		if err != nil || len(run.Refused) != 1 {
			t.Fatalf("snapshot with a failing gate: %+v %v", run, err)
		}
		refusal(t, run.Refused[0], "gate")
		if !strings.Contains(run.Refused[0].Error(), "CVE-2026-1234") {
			t.Fatalf("gate refusal does not say why: %v", run.Refused[0])
		}
		m, err := fx.svc.Promote(ctx, py.Name, "staging", PromoteOptions{Force: true, Reason: "accepted risk, ticket 42"})
		if err != nil || m.Move.Kind != store.KindForce || !strings.Contains(m.Move.Reason, "ticket 42") {
			t.Fatalf("force: %+v %v", m, err)
		}
	})
}

func TestFreeze(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		old := store.Stream{Name: "python:3.11-bookworm", EOL: "2026-11-30"}
		fx.publish(t, old, "k1")
		fx.publish(t, stream("python:3.13-trixie"), "t1")
		fx.clock.add(2 * 24 * time.Hour)
		_, err := fx.svc.Publish(ctx, Candidate{Stream: old, Digest: digestOf("k2"), BuildKey: "k2", Tests: passed("essential"), Gate: store.Result{Passed: true}})
		refusal(t, err, "frozen")
		for _, want := range []string{"2026-11-30", "python:3.13-trixie"} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("freeze message %q does not name %s", err, want)
			}
		}
		_, err = fx.svc.Promote(ctx, old.Name, "staging", PromoteOptions{Force: true, Reason: "please"})
		refusal(t, err, "frozen")
		st, _ := fx.svc.Store.Stream(ctx, old.Name)
		if st.FrozenAt.IsZero() {
			t.Fatal("freeze not recorded")
		}
		status, _ := fx.svc.Status(ctx)
		if !status[0].Frozen || status[1].Frozen {
			t.Fatalf("status frozen: %+v", status)
		}
	})
}

type fakeVulns struct {
	kev     map[string]bool
	urgency map[string]string
}

func (v fakeVulns) KEV(id string) bool               { return v.kev[id] }
func (v fakeVulns) Urgency(id, source string) string { return v.urgency[id] }

func TestFastTrackKEV(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		fx.svc.Vulns = fakeVulns{kev: map[string]bool{"CVE-2026-0001": true}, urgency: map[string]string{"CVE-2026-0002": "high"}}
		py := stream("python:3.11-bookworm")
		ng := stream("nginx:1.22-bookworm")
		fx.publish(t, py, "k1")
		fixed := fx.publish(t, py, "k2", store.CVE{ID: "CVE-2026-0001", Source: "openssl"})
		fx.publish(t, ng, "n1", store.CVE{ID: "CVE-2026-0002", Source: "nginx"})
		got, err := fx.svc.EligibleStreams(ctx)
		if err != nil || len(got) != 1 || got[0] != py.Name {
			t.Fatalf("eligible (KEV only) = %v %v", got, err)
		}
		_, err = fx.svc.FastTrack(ctx, ng.Name, "", passAll("essential"))
		refusal(t, err, "not-eligible")
		ft, err := fx.svc.FastTrack(ctx, py.Name, "", passAll("essential"))
		if err != nil || len(ft.Moves) != 2 || !ft.Reasons[0].KEV {
			t.Fatalf("fast track: %+v %v", ft, err)
		}
		if fx.tags.tag("python:3.11-bookworm") != fixed.Release.Digest || !strings.Contains(ft.Moves[1].Move.Reason, "CVE-2026-0001 (KEV)") {
			t.Fatalf("production not fast-tracked: %+v", ft.Moves)
		}
		fx.svc.FastTrackUrgency = "high"
		if got, _ := fx.svc.EligibleStreams(ctx); len(got) != 1 || got[0] != ng.Name {
			t.Fatalf("eligible at urgency high = %v", got)
		}
	})
}

func TestRollback(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		py := stream("python:3.11-bookworm")
		r1 := fx.publish(t, py, "k1").Release
		r2 := fx.publish(t, py, "k2").Release
		m, err := fx.svc.Rollback(ctx, py.Name, "testing", "", "segfaults on start")
		if err != nil || m.Release.ID != r1.ID || fx.tags.tag("python:3.11-bookworm-testing") != r1.Digest {
			t.Fatalf("rollback: %+v %v", m, err)
		}
		// r2 must not come back: put it back in testing by hand and promote it.
		if err := fx.svc.Store.Move(ctx, store.Move{Stream: py.Name, Channel: "testing", ReleaseID: r2.ID, Kind: store.KindForce, At: fx.clock.now()}, 0); err != nil {
			t.Fatal(err)
		}
		_, err = fx.svc.Promote(ctx, py.Name, "staging", PromoteOptions{})
		refusal(t, err, "rolled-back")
		if _, err := fx.svc.Rollback(ctx, py.Name, "testing", "3.11-bookworm-20261129.7", ""); err == nil {
			t.Fatal("rolled back to a release never in the channel")
		}
	})
}

func TestRepairDrift(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		py := stream("python:3.11-bookworm")
		r := fx.publish(t, py, "k1").Release
		fx.tags.tags["python:3.11-bookworm-testing"] = digestOf("by hand")
		drift, err := fx.svc.Repair(ctx, true)
		if err != nil || len(drift) != 1 || drift[0].Repaired {
			t.Fatalf("dry run: %+v %v", drift, err)
		}
		drift, err = fx.svc.Repair(ctx, false)
		if err != nil || len(drift) != 1 || !drift[0].Repaired || fx.tags.tag("python:3.11-bookworm-testing") != r.Digest {
			t.Fatalf("repair: %+v %v", drift, err)
		}
	})
}

func TestChannelsConfig(t *testing.T) {
	chs, err := ParseChannels([]ChannelConfig{{Name: "canary"}, {Name: "prod", Soak: "3d", FullTests: true}})
	if err != nil || chs[1].Soak != 72*time.Hour || !chs[1].Plain || chs[0].Tag("1.0") != "1.0-canary" || chs[1].Tag("1.0") != "1.0" {
		t.Fatalf("%+v %v", chs, err)
	}
	if _, err := ParseChannels([]ChannelConfig{{Name: "a"}, {Name: "a"}}); err == nil {
		t.Fatal("duplicate channel accepted")
	}
	if _, err := ParseSoak("7 days"); err == nil {
		t.Fatal("bad soak accepted")
	}
}
