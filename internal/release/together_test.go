package release

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/store"
)

// A runtime and its dev variant (docs/variants.md) move through the
// channels together: when either is refused (soak, gate) neither moves
// and the refusal names the one refused; when both hold, both move,
// runtime first, whichever of the two is named.
func TestPromoteGroupMovesVariantsTogether(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		rt := store.Stream{Name: "python:3.11-bookworm", Definition: "python-3.11.yaml", EOL: "2028-06-30"}
		dev := store.Stream{Name: "python:3.11-bookworm-dev", Definition: "python-3.11.yaml", EOL: "2028-06-30"}
		other := stream("python:3.13-trixie") // another definition: not in the group
		r1 := fx.publish(t, rt, "k1").Release
		fx.publish(t, dev, "d1")
		fx.publish(t, other, "t1")
		snapshotAndStage(t, fx)
		for _, s := range []string{rt.Name, dev.Name} {
			g, err := fx.svc.Group(ctx, s)
			if err != nil || !slices.Equal(g, []string{rt.Name, dev.Name}) {
				t.Fatalf("group of %s = %v %v", s, g, err)
			}
		}
		if g, _ := fx.svc.Group(ctx, other.Name); !slices.Equal(g, []string{other.Name}) {
			t.Fatalf("group of %s = %v", other.Name, g)
		}
		noProduction := func() {
			t.Helper()
			for _, tag := range []string{"python:3.11-bookworm", "python:3.11-bookworm-dev"} {
				if d := fx.tags.tag(tag); d != "" {
					t.Fatalf("%s moved to production (%s) though the group was refused", tag, d)
				}
			}
			if h, _ := fx.svc.History(ctx, rt.Name); len(h.Moves) != 2 { // testing, staging
				t.Fatalf("runtime moves: %+v", h.Moves)
			}
		}

		// A new dev release enters staging a week later: the runtime has
		// soaked, the variant has not.
		fx.clock.add(8 * 24 * time.Hour)
		d2 := fx.publish(t, dev, "d2").Release
		snapshotAndStage(t, fx)
		_, err := fx.svc.PromoteGroup(ctx, rt.Name, "production", PromoteOptions{})
		r := refusal(t, err, "soak")
		if r.Stream != dev.Name || !strings.Contains(err.Error(), "none of python:3.11-bookworm, python:3.11-bookworm-dev moved") {
			t.Fatalf("soak refusal names %s: %v", r.Stream, err)
		}
		noProduction()

		// Soaked, but the variant's gate fails now.
		fx.clock.add(8 * 24 * time.Hour)
		fx.svc.Gate = func(_ context.Context, s string, rel store.Release) (store.Result, error) {
			if s == dev.Name {
				return store.Result{Passed: false, Summary: "CVE-2026-9999 (high, fixable) in gcc-12"}, nil
			}
			return store.Result{Passed: true}, nil
		}
		_, err = fx.svc.PromoteGroup(ctx, dev.Name, "production", PromoteOptions{})
		if r := refusal(t, err, "gate"); r.Stream != dev.Name || !strings.Contains(err.Error(), "CVE-2026-9999") {
			t.Fatalf("gate refusal: %v", err)
		}
		noProduction()

		// Both hold: both move, the runtime first, naming the variant.
		fx.svc.Gate = nil
		ms, err := fx.svc.PromoteGroup(ctx, dev.Name, "production", PromoteOptions{})
		if err != nil || len(ms) != 2 || ms[0].Stream != rt.Name || ms[1].Stream != dev.Name || ms[0].Already || ms[1].Already {
			t.Fatalf("promote together: %+v %v", ms, err)
		}
		if fx.tags.tag("python:3.11-bookworm") != r1.Digest || fx.tags.tag("python:3.11-bookworm-dev") != d2.Digest {
			t.Fatalf("production tags: %s %s", fx.tags.tag("python:3.11-bookworm"), fx.tags.tag("python:3.11-bookworm-dev"))
		}
		if fx.tags.tag("python:3.13-trixie") != "" {
			t.Fatal("another definition's stream moved with the group")
		}
		ms, err = fx.svc.PromoteGroup(ctx, rt.Name, "production", PromoteOptions{})
		if err != nil || len(ms) != 2 || !ms[0].Already || !ms[1].Already {
			t.Fatalf("again: %+v %v", ms, err)
		}
	})
}

// pyGroup is a runtime and its dev variant (one definition), and a
// stream of another definition.
func pyGroup() (rt, dev, other store.Stream) {
	rt = store.Stream{Name: "python:3.11-bookworm", Definition: "python-3.11.yaml", EOL: "2028-06-30"}
	dev = store.Stream{Name: "python:3.11-bookworm-dev", Definition: "python-3.11.yaml", EOL: "2028-06-30"}
	return rt, dev, stream("python:3.13-trixie")
}

// failFor is a test runner that fails the suite for one stream.
func failFor(suite, failing, summary string) TestRunner {
	return func(_ context.Context, s string, _ store.Release) (store.Result, error) {
		if s == failing {
			return store.Result{Passed: false, Suite: suite, Summary: summary}, nil
		}
		return passed(suite), nil
	}
}

// The fast track of a runtime's exploited fix moves its dev variant's
// newest release into every channel in the same step (and the other way
// round): production never carries the fix in one and not the other.
func TestFastTrackMovesVariantsTogether(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		fx.svc.Vulns = fakeVulns{kev: map[string]bool{"CVE-2026-0001": true}}
		rt, dev, other := pyGroup()
		fx.publish(t, rt, "k1")
		fx.publish(t, dev, "d1")
		fx.publish(t, other, "t1")
		kev := store.CVE{ID: "CVE-2026-0001", Source: "openssl"}
		r2 := fx.publish(t, rt, "k2", kev).Release
		d2 := fx.publish(t, dev, "d2").Release // its record names no fix: it moves with the runtime
		fx.publish(t, other, "t2", kev)

		got, err := fx.svc.EligibleStreams(ctx)
		if err != nil || !slices.Equal(got, []string{rt.Name, other.Name}) {
			t.Fatalf("eligible = %v %v, want each group once", got, err)
		}
		var tested []string
		essential := func(_ context.Context, s string, r store.Release) (store.Result, error) {
			tested = append(tested, s+" "+r.Tag)
			return passed("essential"), nil
		}
		// Named by the variant, whose own release fixes nothing: the
		// group moves, led by the runtime's fix.
		ft, err := fx.svc.FastTrack(ctx, dev.Name, "", essential)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tested, []string{rt.Name + " " + r2.Tag, dev.Name + " " + d2.Tag}) {
			t.Fatalf("essential tests ran on %v", tested)
		}
		if ft.Release.ID != d2.ID || len(ft.Reasons) != 1 || !ft.Reasons[0].KEV {
			t.Fatalf("outcome: %+v", ft)
		}
		var moved []string
		for _, m := range ft.Moves {
			moved = append(moved, m.Stream+"→"+m.Move.Channel)
			if m.Move.Kind != store.KindFastTrack {
				t.Fatalf("move kind %s", m.Move.Kind)
			}
		}
		want := []string{rt.Name + "→staging", rt.Name + "→production", dev.Name + "→staging", dev.Name + "→production"}
		if !slices.Equal(moved, want) {
			t.Fatalf("moves %v, want %v", moved, want)
		}
		if !strings.Contains(ft.Moves[1].Move.Reason, "fast track: fixes CVE-2026-0001 (KEV)") ||
			!strings.Contains(ft.Moves[3].Move.Reason, "fast track: with python:3.11-bookworm "+r2.Tag+", which fixes CVE-2026-0001 (KEV)") {
			t.Fatalf("reasons: %q, %q", ft.Moves[1].Move.Reason, ft.Moves[3].Move.Reason)
		}
		if fx.tags.tag("python:3.11-bookworm") != r2.Digest || fx.tags.tag("python:3.11-bookworm-dev") != d2.Digest {
			t.Fatal("production tags do not carry the group's releases")
		}
		if fx.tags.tag("python:3.13-trixie") != "" {
			t.Fatal("another definition's stream moved with the group")
		}
		if got, _ := fx.svc.EligibleStreams(ctx); !slices.Equal(got, []string{other.Name}) {
			t.Fatalf("eligible after = %v", got)
		}
		tested = nil
		ft, err = fx.svc.FastTrack(ctx, rt.Name, "", essential)
		if err != nil || len(ft.Moves) != 0 || len(tested) != 0 {
			t.Fatalf("again: %+v %v, tested %v", ft, err, tested)
		}
	})
}

// A variant whose essential tests fail holds its runtime back: nothing
// of the group moves, and the refusal names the variant; the runtime's
// own fast track is refused the same way. A group none of whose releases
// is eligible is refused naming every member.
func TestFastTrackVariantHoldsRuntime(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		fx.svc.Vulns = fakeVulns{kev: map[string]bool{"CVE-2026-0001": true}}
		rt, dev, _ := pyGroup()
		fx.publish(t, rt, "k1")
		fx.publish(t, dev, "d1")
		_, err := fx.svc.FastTrack(ctx, rt.Name, "", passAll("essential"))
		if r := refusal(t, err, "not-eligible"); r.Stream != rt.Name || !strings.Contains(err.Error(), "none of python:3.11-bookworm, python:3.11-bookworm-dev") {
			t.Fatalf("not eligible: %v", err)
		}
		kev := store.CVE{ID: "CVE-2026-0001", Source: "openssl"}
		fx.publish(t, rt, "k2", kev)
		fx.publish(t, dev, "d2", kev)
		_, err = fx.svc.FastTrack(ctx, rt.Name, "", failFor("essential", dev.Name, "gcc: internal compiler error"))
		r := refusal(t, err, "tests")
		if r.Stream != dev.Name || !strings.Contains(err.Error(), "gcc: internal compiler error") ||
			!strings.Contains(err.Error(), "none of python:3.11-bookworm, python:3.11-bookworm-dev moved") {
			t.Fatalf("refusal: %v", err)
		}
		for _, tag := range []string{"python:3.11-bookworm-staging", "python:3.11-bookworm", "python:3.11-bookworm-dev-staging", "python:3.11-bookworm-dev"} {
			if d := fx.tags.tag(tag); d != "" {
				t.Fatalf("%s moved (%s) though the group was refused", tag, d)
			}
		}
		for _, s := range []string{rt.Name, dev.Name} {
			if h, _ := fx.svc.History(ctx, s); len(h.Moves) != 2 { // the two publishes
				t.Fatalf("%s moves: %+v", s, h.Moves)
			}
		}
		// The runtime's tests failing holds the variant back in the same way.
		_, err = fx.svc.FastTrack(ctx, dev.Name, "", failFor("essential", rt.Name, "import ssl fails"))
		if r := refusal(t, err, "tests"); r.Stream != rt.Name {
			t.Fatalf("refusal names %s: %v", r.Stream, err)
		}
		if fx.tags.tag("python:3.11-bookworm-dev") != "" {
			t.Fatal("the variant moved without its runtime")
		}
	})
}

// The weekly snapshot moves a runtime and its variant into staging
// together: a variant whose full suite fails, or whose gate fails, holds
// the runtime back with a refusal naming the variant; naming one stream
// snapshots its group.
func TestSnapshotMovesVariantsTogether(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		rt, dev, other := pyGroup()
		r1 := fx.publish(t, rt, "k1").Release
		d1 := fx.publish(t, dev, "d1").Release
		o1 := fx.publish(t, other, "t1").Release
		noStaging := func() {
			t.Helper()
			for _, tag := range []string{"python:3.11-bookworm-staging", "python:3.11-bookworm-dev-staging"} {
				if d := fx.tags.tag(tag); d != "" {
					t.Fatalf("%s moved (%s) though the group was held", tag, d)
				}
			}
		}

		run, err := fx.svc.Snapshot(ctx, nil, failFor("full", dev.Name, "Python headers: /usr/include/python3.11/Python.h missing"))
		if err != nil || len(run.Snapshot.Results) != 3 || len(run.Refused) != 1 {
			t.Fatalf("snapshot: %+v %v", run, err)
		}
		r := refusal(t, run.Refused[0], "tests")
		if r.Stream != dev.Name || !strings.Contains(run.Refused[0].Error(), "Python.h missing") ||
			!strings.Contains(run.Refused[0].Error(), "none of python:3.11-bookworm, python:3.11-bookworm-dev moved") {
			t.Fatalf("refusal: %v", run.Refused[0])
		}
		noStaging()
		if len(run.Promoted) != 1 || run.Promoted[0].Stream != other.Name || fx.tags.tag("python:3.13-trixie-staging") != o1.Digest {
			t.Fatalf("the other definition's stream: %+v", run.Promoted)
		}

		// Every member failing: in the results, nothing held back to report.
		run, err = fx.svc.Snapshot(ctx, []string{rt.Name}, func(context.Context, string, store.Release) (store.Result, error) {
			return store.Result{Suite: "full", Summary: "engine gone"}, nil
		})
		if err != nil || len(run.Snapshot.Results) != 2 || len(run.Refused) != 0 || len(run.Promoted) != 0 {
			t.Fatalf("all failing: %+v %v", run, err)
		}

		// The variant's gate fails with today's data.
		fx.svc.Gate = func(_ context.Context, s string, _ store.Release) (store.Result, error) {
			if s == dev.Name {
				return store.Result{Passed: false, Summary: "CVE-2026-9999 (high, fixable) in gcc-12"}, nil
			}
			return store.Result{Passed: true}, nil
		}
		run, err = fx.svc.Snapshot(ctx, []string{rt.Name}, passAll("full"))
		if err != nil || len(run.Refused) != 1 {
			t.Fatalf("gate: %+v %v", run, err)
		}
		if r := refusal(t, run.Refused[0], "gate"); r.Stream != dev.Name || !strings.Contains(run.Refused[0].Error(), "CVE-2026-9999") {
			t.Fatalf("gate refusal: %v", run.Refused[0])
		}
		noStaging()

		// Both pass: named by the variant, both move.
		fx.svc.Gate = nil
		run, err = fx.svc.Snapshot(ctx, []string{dev.Name}, passAll("full"))
		if err != nil || len(run.Snapshot.Results) != 2 || len(run.Refused) != 0 || len(run.Promoted) != 2 ||
			run.Promoted[0].Stream != rt.Name || run.Promoted[1].Stream != dev.Name {
			t.Fatalf("together: %+v %v", run, err)
		}
		if fx.tags.tag("python:3.11-bookworm-staging") != r1.Digest || fx.tags.tag("python:3.11-bookworm-dev-staging") != d1.Digest {
			t.Fatal("staging tags")
		}
	})
}

// Rolling back a runtime rolls its variants back to the matching release
// (the variant's newest release built with the runtime's release the
// channel goes back to, that was in the channel); naming the variant
// rolls the runtime back with it; a variant with no matching release in
// the channel holds the rollback, naming it.
func TestRollbackGroup(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		rt, dev, _ := pyGroup()
		r1 := fx.publish(t, rt, "k1").Release
		d1 := fx.publish(t, dev, "d1").Release
		d1b := fx.publish(t, dev, "d1b").Release // a package only the variant has
		r2 := fx.publish(t, rt, "k2").Release
		d2 := fx.publish(t, dev, "d2").Release
		heads := func(wantRT, wantDev store.Release) {
			t.Helper()
			if got := fx.tags.tag("python:3.11-bookworm-testing"); got != wantRT.Digest {
				t.Fatalf("runtime testing = %s, want %s", got, wantRT.Tag)
			}
			if got := fx.tags.tag("python:3.11-bookworm-dev-testing"); got != wantDev.Digest {
				t.Fatalf("dev testing = %s, want %s", got, wantDev.Tag)
			}
		}
		rolledBack := func(r store.Release) bool {
			t.Helper()
			got, err := fx.svc.Store.ReleaseByID(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			return !got.RolledBack.IsZero()
		}

		// The runtime: r2 → r1, the variant d2 → d1b (built with r1, newer than d1).
		ms, err := fx.svc.RollbackGroup(ctx, rt.Name, "testing", "", "segfaults")
		if err != nil || len(ms) != 2 || ms[0].Stream != rt.Name || ms[1].Stream != dev.Name {
			t.Fatalf("rollback: %+v %v", ms, err)
		}
		heads(r1, d1b)
		if ms[1].Move.Kind != store.KindRollback || ms[1].Move.Reason != "segfaults (with python:3.11-bookworm)" {
			t.Fatalf("variant's move: %+v", ms[1].Move)
		}
		if !rolledBack(r2) || !rolledBack(d2) || rolledBack(d1b) {
			t.Fatal("the releases moved off are not marked rolled back")
		}

		// The variant alone changed since: its runtime stays (already there).
		ms, err = fx.svc.RollbackGroup(ctx, dev.Name, "testing", "", "")
		if err != nil || len(ms) != 2 || !ms[0].Already || ms[0].Stream != rt.Name || ms[1].Release.ID != d1.ID {
			t.Fatalf("variant rollback: %+v %v", ms, err)
		}
		heads(r1, d1)

		// Published together again; naming the variant moves the runtime back.
		r3 := fx.publish(t, rt, "k3").Release
		d3 := fx.publish(t, dev, "d3").Release
		heads(r3, d3)
		ms, err = fx.svc.RollbackGroup(ctx, dev.Name, "testing", d1.Tag, "headers broken")
		if err != nil || len(ms) != 2 || ms[0].Already || ms[0].Release.ID != r1.ID || ms[1].Release.ID != d1.ID {
			t.Fatalf("rollback by the variant: %+v %v", ms, err)
		}
		heads(r1, d1)
		if !rolledBack(r3) || !rolledBack(d3) {
			t.Fatal("r3, d3 not marked")
		}
	})
}

// A variant whose matching release never reached the channel (the
// runtime went there before the variant existed) holds the rollback:
// nothing moves, and the error names the variant.
func TestRollbackGroupNeedsMatchingRelease(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		rt, dev, _ := pyGroup()
		r1 := fx.publish(t, rt, "k1").Release
		snapshotAndStage(t, fx) // r1 alone: no variant yet
		fx.publish(t, dev, "d1")
		fx.publish(t, rt, "k2")
		fx.publish(t, dev, "d2")
		run, err := fx.svc.Snapshot(ctx, nil, passAll("full"))
		if err != nil || len(run.Promoted) != 2 {
			t.Fatalf("snapshot: %+v %v", run, err)
		}
		before := [2]string{fx.tags.tag("python:3.11-bookworm-staging"), fx.tags.tag("python:3.11-bookworm-dev-staging")}
		_, err = fx.svc.RollbackGroup(ctx, rt.Name, "staging", "", "")
		if err == nil || !strings.HasPrefix(err.Error(), dev.Name+": no release of it built with python:3.11-bookworm "+r1.Tag+" was in staging") ||
			!strings.Contains(err.Error(), "none of python:3.11-bookworm, python:3.11-bookworm-dev moved") {
			t.Fatalf("error: %v", err)
		}
		if after := [2]string{fx.tags.tag("python:3.11-bookworm-staging"), fx.tags.tag("python:3.11-bookworm-dev-staging")}; after != before {
			t.Fatalf("moved: %v → %v", before, after)
		}
	})
}

// A runtime release after which the variant's build did not change (no
// variant release followed it) goes with the variant's release before it.
func TestRollbackGroupRuntimeReleasedAlone(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		rt, dev, _ := pyGroup()
		fx.publish(t, rt, "k1")
		d1 := fx.publish(t, dev, "d1").Release
		r2 := fx.publish(t, rt, "k2").Release // the variant's build key did not change
		fx.publish(t, rt, "k3")
		fx.publish(t, dev, "d3")
		ms, err := fx.svc.RollbackGroup(ctx, rt.Name, "testing", "", "")
		if err != nil || len(ms) != 2 || ms[0].Release.ID != r2.ID || ms[1].Release.ID != d1.ID {
			t.Fatalf("rollback: %+v %v", ms, err)
		}
		if fx.tags.tag("python:3.11-bookworm-testing") != r2.Digest || fx.tags.tag("python:3.11-bookworm-dev-testing") != d1.Digest {
			t.Fatal("testing tags")
		}
	})
}
