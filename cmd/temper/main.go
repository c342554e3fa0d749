// Command temper keeps a catalog of hardened, minimal Debian-based container
// images continuously patched. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit statuses, documented in README.md.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

func run(ctx context.Context, args []string) int {
	root := newRootCommand(defaultGlobals())
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		var st exitStatus
		if errors.As(err, &st) {
			return int(st)
		}
		fmt.Fprintln(os.Stderr, "temper:", err)
		var ue usageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitError
	}
	return exitOK
}

type usageError struct{ error }

func newRootCommand(g *globalFlags) *cobra.Command {
	root := &cobra.Command{
		Use:           "temper",
		Short:         "Keep hardened, minimal Debian-based container images continuously patched",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	g.register(root)
	root.AddCommand(newVersionCommand(), newKeygenCommand(), newVerifyCommand(), newArchiveCommand(g), newLockCommand(g), newBuildCommand(g), newCheckCommand(g), newUpdateCommand(g), newTestCommand(), newCatalogCommand(g), newScanCommand(g), newVulnCommand(g))
	root.AddCommand(newPromoteCommand(g), newRollbackCommand(g), newStatusCommand(g), newHistoryCommand(g), newPublishCommand(g), newSnapshotCommand(g), newFastTrackCommand(g))
	root.AddCommand(newServeCommand(g), newTokenCommand(g))
	return root
}
