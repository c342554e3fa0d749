package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/store"
)

func newStatusCommand(g *globalFlags) *cobra.Command {
	var f releaseFlags
	var asJSON, repair bool
	c := &cobra.Command{
		Use:   "status [STREAM...|DIR] [--json]",
		Short: "One row per stream: each channel's release and age, findings, freeze, next promotion",
		Long: `status shows, for each stream, the release in each channel with its age,
the open findings of its newest release by urgency and the known-exploited
(KEV) count, its frozen/end-of-life state and the next promotion the rules
expect. --repair puts every registry tag that drifted from the record back
(e.g. after someone retagged by hand).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			svc, err := f.service(ctx, g)
			if err != nil {
				return err
			}
			defer svc.Store.Close()
			if repair {
				if err := releasePrintRepair(ctx, cmd.OutOrStdout(), svc); err != nil {
					return err
				}
			}
			rows, err := svc.Status(ctx)
			if err != nil {
				return err
			}
			if len(args) > 0 {
				if rows, err = releaseFilterStatus(ctx, svc.Store, rows, args); err != nil {
					return err
				}
			}
			if asJSON {
				return releaseWriteJSON(cmd.OutOrStdout(), rows)
			}
			releasePrintStatus(cmd.OutOrStdout(), svc, rows, g.now())
			return nil
		},
	}
	f.register(c)
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&repair, "repair", false, "re-apply the recorded tags where the registry drifted")
	return c
}

func releaseFilterStatus(ctx context.Context, s store.Store, rows []release.StreamStatus, args []string) ([]release.StreamStatus, error) {
	names, err := releaseStreamArgs(ctx, s, args)
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	var out []release.StreamStatus
	for _, r := range rows {
		if keep[r.Stream] {
			out = append(out, r)
		}
	}
	return out, nil
}

func releasePrintRepair(ctx context.Context, w io.Writer, svc *release.Service) error {
	drift, err := svc.Repair(ctx, false)
	for _, d := range drift {
		found := d.Found
		if found == "" {
			found = "missing"
		}
		fmt.Fprintf(w, "repaired %s: was %s, now %s\n", d.Tag, found, d.Want)
	}
	if err == nil && len(drift) == 0 {
		fmt.Fprintln(w, "registry tags match the record")
	}
	return err
}

// releasePrintStatus writes one row per stream: each channel's release and age.
func releasePrintStatus(w io.Writer, svc *release.Service, rows []release.StreamStatus, now time.Time) {
	chs := svc.Channels
	if len(chs) == 0 {
		chs = release.DefaultChannels()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := []string{"STREAM"}
	for _, c := range chs {
		head = append(head, strings.ToUpper(c.Name))
	}
	fmt.Fprintln(tw, strings.Join(append(head, "FINDINGS", "NEXT"), "\t"))
	for _, r := range rows {
		in := map[string]release.ChannelStatus{}
		for _, c := range r.Channels {
			in[c.Channel] = c
		}
		cols := []string{r.Stream}
		for _, c := range chs {
			cs, ok := in[c.Name]
			if !ok {
				cols = append(cols, "-")
				continue
			}
			cols = append(cols, fmt.Sprintf("%s (%s)", cs.Release, releaseAge(cs.Age)))
		}
		cols = append(cols, releaseFindings(r), releaseNext(r, now))
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	tw.Flush()
}

func releaseAge(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dm", d/time.Minute)
}

// releaseFindings is "high 1, medium 3, KEV 1" or "-".
func releaseFindings(r release.StreamStatus) string {
	var parts []string
	keys := make([]string, 0, len(r.Findings))
	for k := range r.Findings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if r.Findings[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, r.Findings[k]))
		}
	}
	if r.KEV > 0 {
		parts = append(parts, fmt.Sprintf("KEV %d", r.KEV))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func releaseNext(r release.StreamStatus, now time.Time) string {
	switch {
	case r.Frozen:
		return "frozen: end of life " + r.EOL
	case r.Next == nil:
		return "-"
	case r.Next.Waiting != "":
		return fmt.Sprintf("%s → %s after %s", r.Next.Release, r.Next.To, r.Next.Waiting)
	case !r.Next.Date.After(now):
		return fmt.Sprintf("%s → %s now", r.Next.Release, r.Next.To)
	}
	return fmt.Sprintf("%s → %s %s", r.Next.Release, r.Next.To, r.Next.Date.UTC().Format(time.DateOnly))
}
