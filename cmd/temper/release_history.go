package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/store"
)

func newHistoryCommand(g *globalFlags) *cobra.Command {
	var f releaseFlags
	var asJSON bool
	c := &cobra.Command{
		Use:   "history STREAM",
		Short: "List a stream's releases, promotions and rollbacks, with patch latency",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.service(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer svc.Store.Close()
			h, err := svc.History(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return releaseWriteJSON(cmd.OutOrStdout(), h)
			}
			releasePrintHistory(cmd.OutOrStdout(), h)
			return nil
		},
	}
	f.register(c)
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func releasePrintHistory(w io.Writer, h release.History) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RELEASE\tDIGEST\tPUBLISHED\tCVES FIXED\tDETECT\tBUILD\tTO PRODUCTION\tNOTE")
	for _, r := range h.Releases {
		var cves []string
		for _, c := range r.CVEsFixed {
			cves = append(cves, c.ID)
		}
		note := ""
		if !r.RolledBack.IsZero() {
			note = "rolled back: " + r.RollbackReason
		}
		if r.State != store.Published {
			note = r.State
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Tag, releaseShort(r.Digest), releaseStamp(r.Published), releaseDash(strings.Join(cves, " ")),
			releaseDur(r.DetectLatency), releaseDur(r.BuildLatency), releaseDur(r.ToProduction), note)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tCHANNEL\tRELEASE\tKIND\tREASON")
	for _, m := range h.Moves {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", releaseStamp(m.At), m.Channel, m.Tag, m.Kind, releaseDash(m.Reason))
	}
	tw.Flush()
	if len(h.Failures) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FAILED\tSTEP\tBUILD KEY\tMESSAGE")
	for _, f := range h.Failures {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", releaseStamp(f.At), f.Step, releaseShort(f.BuildKey), f.Message)
	}
	tw.Flush()
}

func releaseShort(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

func releaseStamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func releaseDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func releaseDur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(time.Minute).String()
}
