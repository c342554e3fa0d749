package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/about"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print temper's version and the Go version that built it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "temper %s (%s)\n", about.Version(), about.GoVersion())
			return nil
		},
	}
}
