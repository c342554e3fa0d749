package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/buildinfo"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print temper's version and the Go version that built it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "temper %s (%s)\n", buildinfo.Version(), buildinfo.GoVersion())
			return nil
		},
	}
}
