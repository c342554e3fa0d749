package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/testrun"
)

// testFlags are temper test's flags.
type testFlags struct {
	src       testrun.Source
	engine    string
	asJSON    bool
	junit     string
	parallel  int
	keepImage bool
	noEngine  bool
}

func newTestCommand() *cobra.Command {
	var tf testFlags
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
fails.

Each variant of a definition (docs/variants.md) is tested as its own image
NAME:VERSION-VARIANT: the runtime's tests that still apply (not those of
hardening the variant relaxes, nor those it names in skip_tests) and its own.`,
		Example: "  temper build examples/catalog/redis -o out && temper test examples/catalog/redis --layout out\n  temper test python.yaml --image localhost/python:3.11 --junit report.xml",
		Args:    cobra.MinimumNArgs(1),
		RunE:    tf.run,
	}
	f := cmd.Flags()
	f.StringVar(&tf.src.Layout, "layout", "", "OCI layout holding the images under NAME:VERSION (default: the embedded store)")
	f.StringVar(&tf.src.EngineRef, "image", "", "test this image the container engine holds instead (one definition)")
	f.StringVar(&tf.src.Variant, "variant", "", "with --image: the variant of the definition the image is (docs/variants.md)")
	f.StringVar(&tf.src.Arch, "arch", "", "architecture to test (default: this machine's; other architectures run structure tests only)")
	f.StringVar(&tf.engine, "engine", "", "container engine: podman or docker (default: the first found)")
	f.BoolVar(&tf.noEngine, "no-engine", false, "run only the structure tests; command and service tests are skipped")
	f.BoolVar(&tf.asJSON, "json", false, "write the report as JSON")
	f.StringVar(&tf.junit, "junit", "", "also write a JUnit XML report to FILE")
	f.IntVar(&tf.parallel, "parallel", 1, "images tested at once")
	f.BoolVar(&tf.keepImage, "keep-image", false, "keep images loaded into the engine (later runs skip the load)")
	return cmd
}

func (tf *testFlags) run(cmd *cobra.Command, args []string) error {
	files, err := spec.FindDefinitions(args)
	if err != nil {
		return err
	}
	if err := tf.source(len(files)); err != nil {
		return err
	}
	opt, err := tf.options()
	if err != nil {
		return err
	}
	reports := testrun.RunFiles(cmd.Context(), files, tf.src, opt, tf.parallel)
	if err := tf.write(cmd.OutOrStdout(), reports); err != nil {
		return err
	}
	failed := 0
	for _, r := range reports {
		failed += r.Failed()
	}
	if failed > 0 {
		return fmt.Errorf("%d tests failed", failed)
	}
	return nil
}

// source checks where the images come from: --image (one definition) or
// --layout, by default the embedded store.
func (tf *testFlags) source(definitions int) error {
	if tf.src.EngineRef != "" && definitions != 1 {
		return usageError{fmt.Errorf("--image takes one definition, not %d", definitions)}
	}
	if tf.src.Variant != "" && tf.src.EngineRef == "" {
		return usageError{fmt.Errorf("--variant goes with --image (from a layout, every variant is tested)")}
	}
	if tf.src.EngineRef != "" && tf.src.Layout != "" {
		return usageError{fmt.Errorf("--image and --layout exclude each other")}
	}
	if tf.src.EngineRef == "" && tf.src.Layout == "" {
		var err error
		if tf.src.Layout, err = build.DefaultStore(); err != nil {
			return fmt.Errorf("no image store: %w; pass --layout DIR", err)
		}
	}
	return nil
}

// options finds the container engine, unless --no-engine.
func (tf *testFlags) options() (testrun.Options, error) {
	opt := testrun.Options{KeepImage: tf.keepImage}
	if tf.noEngine {
		return opt, nil
	}
	eng, err := testrun.FindEngine(tf.engine)
	if err != nil {
		return opt, fmt.Errorf("%w; install podman or docker, or pass --no-engine to run only structure tests", err)
	}
	opt.Engine = eng
	return opt, nil
}

// write prints the summary or the JSON report, and the JUnit file.
func (tf *testFlags) write(w io.Writer, reports []*testrun.Report) error {
	if tf.asJSON {
		if err := testrun.WriteJSON(w, reports); err != nil {
			return err
		}
	} else {
		testrun.WriteSummary(w, reports)
	}
	if tf.junit == "" {
		return nil
	}
	f, err := os.Create(tf.junit)
	if err != nil {
		return err
	}
	if err := testrun.WriteJUnit(f, reports); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
