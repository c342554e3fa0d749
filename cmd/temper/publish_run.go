package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/pipeline"
	"github.com/temper-dev/temper/internal/release"
)

// gatedService opens the release service with the gate on today's
// vulnerability data (todayGate): what promote, snapshot and fast-track
// decide by.
func (f *releaseFlags) gatedService(ctx context.Context, g *globalFlags) (*release.Service, error) {
	svc, err := f.service(ctx, g)
	if err != nil {
		return nil, err
	}
	if err := todayGate(g, svc); err != nil {
		svc.Store.Close()
		return nil, err
	}
	return svc, nil
}

// todayGate makes promotions check the gate with today's vulnerability
// data, from each release's kept lock; without data the gate recorded at
// publish stands.
func todayGate(g *globalFlags, svc *release.Service) error {
	c, err := g.cache()
	if err != nil {
		return err
	}
	pol, exc, err := scanPolicy(g, scanFlags{})
	if err != nil {
		return err
	}
	pipeline.NewGate(c, pol, exc, "", false, g.now()).UseToday(svc, g.now)
	return nil
}

func newSnapshotCommand(g *globalFlags) *cobra.Command {
	var f releaseFlags
	var e engineFlags
	c := &cobra.Command{
		Use:   "snapshot [STREAM...|DIR]",
		Short: "The weekly snapshot: full tests on the newest release of each stream in the first channel, then promote the passing ones",
		Long: `snapshot takes the newest release in the first channel of every stream (or
of the streams named), runs the full test suite (the definition's tests,
service tests included) against exactly those digests, records the snapshot
(id, time, per-stream pass/fail) and promotes the passing releases into the
second channel under the rules (the gate with today's data). A runtime and
its variants (NAME:VERSION-VARIANT) move together: naming one snapshots
both, and a member that fails its tests or a rule holds the others back.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			opt, err := e.options()
			if err != nil {
				return err
			}
			svc, err := f.gatedService(ctx, g)
			if err != nil {
				return err
			}
			defer svc.Store.Close()
			streams, err := releaseStreamArgs(ctx, svc.Store, args)
			if err != nil {
				return err
			}
			run, err := svc.Snapshot(ctx, streams, pipeline.ReleaseTests(svc, opt, "full"))
			printSnapshot(cmd.OutOrStdout(), run)
			if err != nil {
				return err
			}
			if len(run.Refused) > 0 {
				return exitStatus(exitError)
			}
			return nil
		},
	}
	f.register(c)
	f.registerSign(c)
	e.register(c)
	return c
}

func printSnapshot(w io.Writer, run release.SnapshotRun) {
	fmt.Fprintf(w, "snapshot %d at %s\n", run.Snapshot.ID, releaseStamp(run.Snapshot.At))
	for _, r := range run.Snapshot.Results {
		word := "FAIL"
		if r.Passed {
			word = "pass"
		}
		fmt.Fprintf(w, "  %s %s %s: %s\n", word, r.Stream, r.Tag, r.Summary)
	}
	for _, m := range run.Promoted {
		if m.Already {
			fmt.Fprintf(w, "%s: %s already there\n", m.Release.Stream, m.Release.Tag)
			continue
		}
		fmt.Fprintf(w, "%s: %s → %s (%s)\n", m.Move.Stream, m.Release.Tag, m.Move.Channel, m.Move.Reason)
	}
	for _, err := range run.Refused {
		fmt.Fprintln(w, "refused:", err)
	}
}

func newFastTrackCommand(g *globalFlags) *cobra.Command {
	var f releaseFlags
	var e engineFlags
	var cve string
	c := &cobra.Command{
		Use:   "fast-track [STREAM...|DIR] [--cve ID]",
		Short: "Move a release that fixes an exploited (KEV) or urgent CVE through every channel at once",
		Long: `fast-track finds the streams whose newest release fixes a CVE in CISA's KEV
catalog, or one whose Debian urgency is at or above temper.yaml's
fast_track.urgency (default: KEV only), runs the essential tests (the
definition's tests) against that release, and moves it into every channel at
once, recording the reason and the CVEs. A runtime and its variants
(NAME:VERSION-VARIANT) move together: each member's newest release, after
each member's essential tests; when one is refused (tests, freeze) none
moves. Without arguments, every eligible stream. Needs the vulnerability
data (temper vuln update).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			opt, err := e.options()
			if err != nil {
				return err
			}
			svc, err := f.gatedService(ctx, g)
			if err != nil {
				return err
			}
			defer svc.Store.Close()
			if svc.Vulns == nil {
				return errors.New("fast track: no vulnerability data; run `temper vuln update`")
			}
			streams, err := fastTrackStreams(ctx, svc, args)
			if err != nil {
				return err
			}
			return fastTrackAll(ctx, cmd.OutOrStdout(), svc, streams, cve, pipeline.ReleaseTests(svc, opt, "essential"))
		},
	}
	f.register(c)
	f.registerSign(c)
	e.register(c)
	c.Flags().StringVar(&cve, "cve", "", "only this CVE makes a release eligible")
	return c
}

func fastTrackStreams(ctx context.Context, svc *release.Service, args []string) ([]string, error) {
	if len(args) == 0 {
		return svc.EligibleStreams(ctx)
	}
	return releaseStreamArgs(ctx, svc.Store, args)
}

func fastTrackAll(ctx context.Context, w io.Writer, svc *release.Service, streams []string, cve string, tests release.TestRunner) error {
	if len(streams) == 0 {
		fmt.Fprintln(w, "no stream is eligible for the fast track")
		return nil
	}
	// A runtime and its variants move together (release.FastTrack moves
	// the group of the stream named): each group once.
	groups, err := svc.Groups(ctx, streams)
	if err != nil {
		return err
	}
	var failed error
	for _, g := range groups {
		s := g[0]
		for _, n := range streams {
			if slices.Contains(g, n) {
				s = n // the member named: its fixes lead
				break
			}
		}
		ft, err := svc.FastTrack(ctx, s, cve, tests)
		var r *release.Refusal
		switch {
		case errors.As(err, &r):
			fmt.Fprintln(w, "refused:", err)
			failed = exitStatus(exitError)
		case err != nil:
			return err
		case len(ft.Moves) == 0:
			fmt.Fprintf(w, "%s: %s already in every channel\n", strings.Join(g, ", "), ft.Release.Tag)
		}
		for _, m := range ft.Moves {
			fmt.Fprintf(w, "%s: %s → %s (%s)\n", m.Stream, m.Release.Tag, m.Move.Channel, m.Move.Reason)
		}
	}
	return failed
}
