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
