package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/update"
)

func newUpdateCommand(g *globalFlags) *cobra.Command {
	var dryRun, allowABI bool
	var parallel int
	cmd := &cobra.Command{
		Use:   "update [DEFINITION.yaml|DIR...]",
		Short: "Rewrite the locks that have updates and print a changelog per image",
		Long: `Check like temper check, then rewrite the lock of every image that has
updates: atomically, deterministically (only the changed lines differ), and
nothing else. Images whose updates carry ABI risk are skipped unless
--allow-abi-change; a lock is rewritten as a whole so its closure stays
consistent. For each image written, a changelog suitable for a commit message
or pull request body is printed: the packages old → new and the CVEs fixed.

Exit status: 0 success (whatever was written); 10 some images were skipped
(abi-risk, end of life, not locked); 1 error.`,
		Example: "  temper update examples/catalog --dry-run\n  temper update . --allow-abi-change",
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := g.check(cmd, args, parallel)
			if err != nil {
				return err
			}
			applied, err := update.Apply(rep, update.ApplyOptions{AllowABIChange: allowABI, DryRun: dryRun})
			w := cmd.OutOrStdout()
			skipped, written := 0, 0
			for _, a := range applied {
				img := a.Image
				switch a.Action {
				case update.ActionWritten, update.ActionWouldWrite, update.ActionUnchanged:
					written++
					locks := img.Lock
					if len(a.Locks) > 0 { // the runtime's and its variants' that changed
						locks = strings.Join(a.Locks, ", ")
					}
					fmt.Fprintf(w, "==> %s [%s]\n", locks, a.Action)
					update.WriteChangelog(w, img)
					fmt.Fprintln(w)
				case update.ActionSkipped:
					skipped++
					fmt.Fprintf(w, "==> %s [skipped: %s]\n", img.Lock, a.Reason)
					for _, r := range img.Reasons {
						fmt.Fprintf(w, "    %s\n", r)
					}
					fmt.Fprintln(w)
				case update.ActionError:
					fmt.Fprintf(cmd.ErrOrStderr(), "error: %s: %s\n", img.Lock, a.Reason)
				default:
					if img.Verdict == update.Failed {
						fmt.Fprintf(cmd.ErrOrStderr(), "error: %s\n", img.Error)
					} else if img.Verdict == update.Blocked || img.Verdict == update.NotLocked {
						skipped++
						fmt.Fprintf(w, "==> %s [%s: %s]\n\n", img.Lock, img.Verdict, strings.Join(img.Reasons, "; "))
					}
				}
			}
			verb := "written"
			if dryRun {
				verb = "to write (dry run)"
			}
			fmt.Fprintf(w, "%d lock(s) %s, %d skipped, %d up to date\n", written, verb, skipped, len(applied)-written-skipped)
			if err != nil {
				return err
			}
			if rep.ExitStatus() == update.ExitError {
				return fmt.Errorf("some definitions could not be checked")
			}
			if skipped > 0 {
				return exitStatus(update.ExitUpdates)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show the plan, write nothing")
	cmd.Flags().BoolVar(&allowABI, "allow-abi-change", false, "also apply updates flagged abi-risk")
	cmd.Flags().IntVar(&parallel, "parallel", 0, "definitions checked at once (default: number of CPUs)")
	return cmd
}
