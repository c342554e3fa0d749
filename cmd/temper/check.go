package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/temper-dev/temper/internal/update"
)

// exitStatus is returned by a command that succeeded but must end with a
// documented non-zero status (10: updates exist) after writing its output;
// run in main.go turns it into the process status without printing it.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// updateOptions builds the check's archive client, .deb fetcher and cache
// from the same flags, temper.yaml and apt sources as every other command.
func (g *globalFlags) updateOptions(stderr io.Writer) (update.Options, error) {
	client, mirrors, err := g.archiveClient()
	if err != nil {
		return update.Options{}, err
	}
	c, err := g.cache()
	if err != nil {
		return update.Options{}, err
	}
	opt := update.Options{
		Client: client,
		Debs:   g.debFetcher(mirrors.Mirrors, c),
		Cache:  c,
		Now:    g.now,
	}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		opt.Progress = func(done, total int) {
			fmt.Fprintf(f, "\rchecking %d/%d definitions", done, total)
			if done == total {
				fmt.Fprint(f, "\r\033[K")
			}
		}
	}
	return opt, nil
}

// check runs update.Check over args (default ".") with the global options:
// the part temper check and temper update share.
func (g *globalFlags) check(cmd *cobra.Command, args []string, parallel int) (*update.Report, error) {
	if len(args) == 0 {
		args = []string{"."}
	}
	opt, err := g.updateOptions(cmd.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	opt.Parallel = parallel
	return update.Check(cmd.Context(), args, opt)
}

func newCheckCommand(g *globalFlags) *cobra.Command {
	var asJSON bool
	var parallel int
	cmd := &cobra.Command{
		Use:   "check [DEFINITION.yaml|DIR...]",
		Short: "Compare locks with the Debian archive: updates, CVEs, ABI risk, end of life",
		Long: `For each definition with a lock, compare the lock with the Debian archive as
it is now. When every suite's signed InRelease is the one the lock recorded,
the image is up to date and nothing else is read. Otherwise the definition is
re-resolved (each release loaded once per architecture for the whole
catalog) and the new closure is compared with the lock: packages upgraded
(from a -security suite: a security update), added, removed or renamed; the
CVEs and urgency the new changelogs list since the locked version; ABI risk
(a shared-library SONAME that disappears, a package swapped for a renamed
one); and, from the archive's own distro-info-data, whether the release is
past the end of its security support.

Exit status: 0 every image is up to date; 10 updates exist (or an image is
blocked or not locked); 1 error. See docs/check.md for the JSON schema.`,
		Example: "  temper check examples/catalog\n  temper check --json . | jq '.images[] | select(.verdict != \"up-to-date\")'",
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := g.check(cmd, args, parallel)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(jsonReport(rep)); err != nil {
					return err
				}
			} else {
				update.WriteTable(w, rep)
			}
			for _, img := range rep.Images {
				if img.Error != "" && asJSON {
					fmt.Fprintf(cmd.ErrOrStderr(), "error: %s\n", img.Error)
				}
			}
			switch st := rep.ExitStatus(); st {
			case update.ExitUpToDate:
				return nil
			case update.ExitError:
				return fmt.Errorf("some definitions could not be checked")
			default:
				return exitStatus(st)
			}
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "write the report as JSON (schema: docs/check.md)")
	cmd.Flags().IntVar(&parallel, "parallel", 0, "definitions checked at once (default: number of CPUs)")
	return cmd
}

// checkJSON is the --json document: a schema version and the report.
type checkJSON struct {
	Schema string `json:"schema"`
	Status int    `json:"exit_status"`
	*update.Report
}

func jsonReport(r *update.Report) checkJSON {
	return checkJSON{Schema: "temper.check/v1", Status: r.ExitStatus(), Report: r}
}
