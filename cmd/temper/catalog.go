package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/catalog"
	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/lifecycle"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/published"
	"github.com/temper-dev/temper/internal/spec"
)

func newCatalogCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Report on a catalog of definitions",
	}
	var layout, distroInfo, publishedFile string
	report := &cobra.Command{
		Use:   "report DIR|DEFINITION.yaml...",
		Short: "Write a Markdown report of a catalog's built images: release, packages, sizes, end of support",
		Long: `Write a Markdown table of every image of the catalog: its Debian release,
the number of packages of each architecture (from the lock), the compressed
and uncompressed size of each architecture's image (read from the OCI layout
temper build wrote, --layout) and the date its release's security support
ends, from Debian's lifecycle data (distro-info-data's debian.csv, read from
the newest release of the catalog in the archive, or --distro-info FILE).
With --published FILE (docs/published-sizes.yaml) it also compares each
image's compressed size with the size published for the image teams use
today in its place, architecture by architecture, with the source of every
figure; figures of images outside the report are left out with a warning.
The report depends only on the locks, the images, the lifecycle data and the
published figures: the same inputs give the same bytes.`,
		Example: "  temper build examples/catalog -o out && temper catalog report examples/catalog --layout out --published docs/published-sizes.yaml > docs/catalog.md",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if layout == "" {
				if layout, err = build.DefaultStore(); err != nil {
					return fmt.Errorf("no image store: %w; pass --layout DIR", err)
				}
			}
			files, err := spec.FindDefinitions(args)
			if err != nil {
				return err
			}
			// Read the published figures first: a mistake in them is
			// reported before any image is read.
			var pub *published.File
			if publishedFile != "" {
				if pub, err = published.Load(publishedFile); err != nil {
					return err
				}
			}
			rows, releases, err := catalog.Rows(files, layout)
			if err != nil {
				return err
			}
			var csv []byte
			var csvFrom string
			if distroInfo != "" {
				if csv, err = os.ReadFile(distroInfo); err != nil {
					return err
				}
				csvFrom = filepath.Base(distroInfo)
			} else if csv, csvFrom, err = fetchDistroInfo(cmd.Context(), g, releases); err != nil {
				return fmt.Errorf("lifecycle data: %w (or pass --distro-info FILE)", err)
			}
			life, err := lifecycle.ParseCSV(csv)
			if err != nil {
				return err
			}
			if pub != nil {
				// A report over part of the catalog uses that part's
				// figures; the committed file is kept in step with the
				// whole catalog by a test (published.Check).
				var warnings []string
				pub, warnings = pub.Only(catalog.Names(rows))
				for _, w := range warnings {
					fmt.Fprintln(cmd.ErrOrStderr(), "temper: warning:", w)
				}
			}
			return catalog.Report{Command: reportCommand(args, publishedFile), Rows: rows, Lifecycle: life, LifecycleFrom: csvFrom, Published: pub}.Write(cmd.OutOrStdout())
		},
	}
	report.Flags().StringVar(&layout, "layout", "", "OCI layout holding the built images (default: the embedded store)")
	report.Flags().StringVar(&publishedFile, "published", "", "sizes published for the images teams use today (e.g. docs/published-sizes.yaml), to compare with")
	report.Flags().StringVar(&distroInfo, "distro-info", "", "Debian lifecycle data (distro-info-data's debian.csv) instead of reading it from the archive")
	cmd.AddCommand(report)
	return cmd
}

// fetchDistroInfo reads debian.csv from the archive the flags name.
func fetchDistroInfo(ctx context.Context, g *globalFlags, releases []string) ([]byte, string, error) {
	return lifecycle.Fetch(ctx, func() (*archive.Client, *pool.Fetcher, error) {
		client, mirrors, err := g.archiveClient()
		if err != nil {
			return nil, nil, err
		}
		c, err := g.cache()
		if err != nil {
			return nil, nil, err
		}
		return client, g.debFetcher(mirrors.Mirrors, c), nil
	}, releases)
}

// reportCommand is the command line recorded in the report, without the
// machine-specific --layout.
func reportCommand(args []string, publishedFile string) string {
	cmd := "temper catalog report " + strings.Join(args, " ")
	if publishedFile != "" {
		cmd += " --published " + publishedFile
	}
	return cmd
}
