package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/config"
	"github.com/temper-dev/temper/internal/pipeline"
	"github.com/temper-dev/temper/internal/vuln"
)

func newVulnCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vuln",
		Short: "Manage the vulnerability data temper scan uses",
	}
	cmd.AddCommand(newVulnUpdateCommand(g))
	return cmd
}

func newVulnUpdateCommand(g *globalFlags) *cobra.Command {
	var src = map[vuln.Kind]*string{vuln.Tracker: new(string), vuln.KEVFeed: new(string), vuln.EPSSFeed: new(string)}
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Fetch Debian's security tracker, CISA KEV and (optionally) EPSS data into the cache",
		Long: `Fetch the Debian security tracker's JSON export and CISA's Known Exploited
Vulnerabilities catalog (and FIRST's EPSS scores when --epss or temper.yaml's
vulnerability_data: epss names them) into temper's cache. Each source is a URL
or a file; the defaults are the publishers' URLs, which temper.yaml's
vulnerability_data: overrides for mirrors and air-gapped sites. A download is
kept only once it parses; a server that answers 304 to the previous ETag or
Last-Modified only refreshes the data's age. See docs/scan.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			conf, err := config.Find(g.config)
			if err != nil {
				return err
			}
			c, err := g.cache()
			if err != nil {
				return err
			}
			if g.offline {
				return usageError{fmt.Errorf("temper vuln update fetches data; it cannot run --offline")}
			}
			sources := map[vuln.Kind]string{}
			for k, v := range map[vuln.Kind]string{vuln.Tracker: conf.VulnerabilityData.Tracker, vuln.KEVFeed: conf.VulnerabilityData.KEV, vuln.EPSSFeed: conf.VulnerabilityData.EPSS} {
				sources[k] = firstNonEmpty(*src[k], v)
			}
			got, err := pipeline.UpdateVulns(cmd.Context(), c, sources, g.now)
			for _, f := range got {
				fmt.Fprintf(cmd.OutOrStdout(), "%-7s %s: %s, sha256 %s, %d bytes, fetched %s\n", f.Kind, f.Outcome, f.State.URL, f.State.SHA256[:12], f.State.Size, f.State.FetchedAt.UTC().Format(time.RFC3339))
			}
			if err != nil {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(src[vuln.Tracker], "tracker", "", "security tracker JSON export, URL or file (default: temper.yaml, then Debian's URL)")
	cmd.Flags().StringVar(src[vuln.KEVFeed], "kev", "", "CISA KEV JSON, URL or file (default: temper.yaml, then CISA's URL)")
	cmd.Flags().StringVar(src[vuln.EPSSFeed], "epss", "", "EPSS CSV (gzip), URL or file (default: temper.yaml; not fetched otherwise)")
	return cmd
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
