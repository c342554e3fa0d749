package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/testrun"
)

func newTestCommand() *cobra.Command {
	var (
		src       testrun.Source
		engine    string
		asJSON    bool
		junit     string
		parallel  int
		keepImage bool
		noEngine  bool
	)
	cmd := &cobra.Command{
		Use:   "test DEFINITION.yaml|DIR...",
		Short: "Run the tests of definitions against their built images",
		Long: `Run each definition's tests (the tests: section, docs/testing.md) against
its built image. Structure tests (path, config, and the hardening checks
temper adds to every image: no setuid files, no shell, not root, nothing
world-writable but /tmp) read the image's layers and need no runtime.
Command and service tests run the image through a container engine (podman
or docker, --engine), with a read-only root filesystem, as the image's own
user; command tests without network, service tests with their port
published on 127.0.0.1 and a tmpfs on each image.writable path.

Images are read from the OCI layout --layout (default: the embedded store
temper build writes to) under NAME:VERSION for this machine's architecture
(--arch), or from the engine with --image REF. Exit status 1 when any test
fails.`,
		Example: "  temper build examples/catalog/redis -o out && temper test examples/catalog/redis --layout out\n  temper test python.yaml --image localhost/python:3.11 --junit report.xml",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := spec.FindDefinitions(args)
			if err != nil {
				return err
			}
			if src.EngineRef != "" && len(files) != 1 {
				return usageError{fmt.Errorf("--image takes one definition, not %d", len(files))}
			}
			if src.EngineRef != "" && src.Layout != "" {
				return usageError{fmt.Errorf("--image and --layout exclude each other")}
			}
			if src.EngineRef == "" && src.Layout == "" {
				if src.Layout, err = build.DefaultStore(); err != nil {
					return fmt.Errorf("no image store: %w; pass --layout DIR", err)
				}
			}
			var opt testrun.Options
			opt.KeepImage = keepImage
			if !noEngine {
				if opt.Engine, err = testrun.FindEngine(engine); err != nil {
					return fmt.Errorf("%w; install podman or docker, or pass --no-engine to run only structure tests", err)
				}
			}
			reports := testrun.RunFiles(cmd.Context(), files, src, opt, parallel)
			if asJSON {
				if err := testrun.WriteJSON(cmd.OutOrStdout(), reports); err != nil {
					return err
				}
			} else {
				testrun.WriteSummary(cmd.OutOrStdout(), reports)
			}
			if junit != "" {
				f, err := os.Create(junit)
				if err != nil {
					return err
				}
				if err := testrun.WriteJUnit(f, reports); err != nil {
					f.Close()
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
			}
			failed := 0
			for _, r := range reports {
				failed += r.Failed()
			}
			if failed > 0 {
				return fmt.Errorf("%d tests failed", failed)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&src.Layout, "layout", "", "OCI layout holding the images under NAME:VERSION (default: the embedded store)")
	f.StringVar(&src.EngineRef, "image", "", "test this image the container engine holds instead (one definition)")
	f.StringVar(&src.Arch, "arch", "", "architecture to test (default: this machine's; other architectures run structure tests only)")
	f.StringVar(&engine, "engine", "", "container engine: podman or docker (default: the first found)")
	f.BoolVar(&noEngine, "no-engine", false, "run only the structure tests; command and service tests are skipped")
	f.BoolVar(&asJSON, "json", false, "write the report as JSON")
	f.StringVar(&junit, "junit", "", "also write a JUnit XML report to FILE")
	f.IntVar(&parallel, "parallel", 1, "images tested at once")
	f.BoolVar(&keepImage, "keep-image", false, "keep images loaded into the engine (later runs skip the load)")
	return cmd
}
