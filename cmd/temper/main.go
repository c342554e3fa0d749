// Command temper keeps a catalog of hardened, minimal Debian-based container
// images continuously patched. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
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
	// TEMPER_CPUPROFILE=FILE writes a CPU profile of the whole command
	// (for `go tool pprof`; docs/performance.md): the figures of a fresh
	// process, which in-process benchmarks with warm memos do not show.
	if p := os.Getenv("TEMPER_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "temper: TEMPER_CPUPROFILE:", err)
			os.Exit(exitError)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "temper: TEMPER_CPUPROFILE:", err)
			os.Exit(exitError)
		}
		code := run(ctx, os.Args[1:])
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(code)
	}
	os.Exit(run(ctx, os.Args[1:]))
}

func run(ctx context.Context, args []string) int {
	root := newRootCommand(defaultGlobals())
	usageArgs(root)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		var st exitStatus
		if errors.As(err, &st) {
			return int(st)
		}
		fmt.Fprintln(os.Stderr, "temper:", err)
		var ue usageError
		if errors.As(err, &ue) || isCobraUsage(err) {
			return exitUsage
		}
		return exitError
	}
	return exitOK
}

// usageArgs makes every command's argument check (a missing or extra
// argument) a usage error: exit 2, as README.md documents.
func usageArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageError{fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}

// isCobraUsage recognises the usage errors cobra makes itself, which
// carry no type: an unknown command, a required flag not set.
func isCobraUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command ") || strings.HasPrefix(msg, "required flag(s) ")
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
	root.AddCommand(newVersionCommand(), newKeygenCommand(), newVerifyCommand(g), newArchiveCommand(g), newLockCommand(g), newBuildCommand(g), newCheckCommand(g), newUpdateCommand(g), newTestCommand(), newCatalogCommand(g), newScanCommand(g), newVulnCommand(g))
	root.AddCommand(newPromoteCommand(g), newRollbackCommand(g), newStatusCommand(g), newHistoryCommand(g), newPublishCommand(g), newSnapshotCommand(g), newFastTrackCommand(g))
	root.AddCommand(newServeCommand(g), newTokenCommand(g))
	return root
}
