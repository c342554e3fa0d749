package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/lock"
)

func newLockCommand(g *globalFlags) *cobra.Command {
	var dryRun bool
	var parallel int
	cmd := &cobra.Command{
		Use:   "lock DEFINITION.yaml|DIR...",
		Short: "Resolve definitions into locks that pin every package",
		Long: `Resolve each definition against its Debian release (the release, its
-updates and -security suites) the way apt would, and write NAME.lock.yaml
beside NAME.yaml: every package, version, architecture, source, suite, .deb
path, SHA-256 and size, and why it is there. Directories are searched
recursively. Each release is loaded once per architecture however many
definitions use it. A lock is written atomically and only when its bytes
change; a definition that fails gets no lock and keeps its previous one.

A definition's variants (docs/variants.md) get NAME.VARIANT.lock.yaml each,
resolved with every package of the runtime's closure pinned at the runtime's
version; when a variant needs another version of a shared package it is
refused with the package names, and none of the stream's locks is written.`,
		Example: "  temper lock examples/catalog\n  temper lock python-3.11.yaml --dry-run",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, _, err := g.archiveClient()
			if err != nil {
				return err
			}
			outs, err := lock.Run(cmd.Context(), args, lock.Options{Client: client, Parallel: parallel, DryRun: dryRun})
			if err != nil {
				return err
			}
			failed := 0
			w := cmd.OutOrStdout()
			for _, o := range outs {
				if o.Err != nil {
					failed++
					fmt.Fprintf(cmd.ErrOrStderr(), "error: %v\n", o.Err)
					continue
				}
				state := "unchanged"
				switch {
				case dryRun:
					state = "dry run, not written"
				case o.Changed:
					state = "written"
				}
				what := o.Definition
				if o.Variant != "" {
					what += " (variant " + o.Variant + ")"
				}
				fmt.Fprintf(w, "%s → %s (%s) [%s]\n", what, o.LockPath, sizes(o.Packages), state)
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d definitions failed; their locks were not written", failed, len(outs))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "resolve and report, write nothing")
	cmd.Flags().IntVar(&parallel, "parallel", 0, "definitions resolved at once (default: number of CPUs)")
	return cmd
}

func sizes(m map[string]int) string {
	archs := make([]string, 0, len(m))
	for a := range m {
		archs = append(archs, a)
	}
	sort.Strings(archs)
	parts := make([]string, len(archs))
	for i, a := range archs {
		parts[i] = fmt.Sprintf("%s: %d packages", a, m[a])
	}
	return strings.Join(parts, ", ")
}
