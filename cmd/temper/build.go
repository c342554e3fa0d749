package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/config"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/spec"
)

func newBuildCommand(g *globalFlags) *cobra.Command {
	var opt build.Options
	var signKey string
	var gf gateFlags
	cmd := &cobra.Command{
		Use:   "build DEFINITION.yaml|DIR...",
		Short: "Build hardened, reproducible OCI images from definitions and their locks",
		Long: `Build each definition from its lock: fetch the pinned .debs (verified,
cached), unpack them without maintainer scripts, reproduce their effects
(users, CA bundle, alternatives, dpkg status for scanners), harden the tree
(non-root, no shell, no package manager, no setuid, no docs) and write one
deterministic image per architecture under one OCI image index.

Outputs: the OCI layout directory --output (default: the embedded store under
the user's data directory), --tarball for podman/docker load, --push to a
registry. Over a directory, definitions whose build (lock digest +
definition) is already in the output are skipped.

A definition's variants (docs/variants.md) are built with it, each as its own
image NAME:VERSION-VARIANT from its own lock; --variant NAME gives the
tarball and the push to that variant instead of the runtime image.

With --push or --sign-key, the vulnerability gate (temper scan's policy,
data and exceptions) judges each lock first and refuses to publish what the
policy forbids, listing the violations; --skip-gate --reason TEXT publishes
anyway and records the reason in the provenance. Signed builds attach the
scan as an OpenVEX attestation. See docs/scan.md.`,
		Example: "  temper build examples/catalog/python/3.11-bookworm.yaml --tarball python.tar\n  temper build examples/catalog -o out/images",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if signKey != "" {
				// The key is read before anything is built: a wrong
				// password costs nothing.
				s, err := loadSigner(signKey)
				if err != nil {
					return err
				}
				opt.Signer = s
			}
			// The gate's data too: no data refuses before anything is built.
			if err := buildGate(g, gf, &opt, signKey != ""); err != nil {
				return err
			}
			files, err := buildSetup(g, cmd, &opt, args)
			if err != nil {
				return err
			}

			if opt.Variant != "" {
				if err := checkVariant(files, opt.Variant); err != nil {
					return err
				}
			}
			failed, n := 0, 0
			build.All(cmd.Context(), files, opt, func(o build.Outcome) {
				n++
				if !printOutcome(cmd, o, opt.Output) {
					failed++
				}
			})
			if failed > 0 {
				return fmt.Errorf("%d of %d builds failed", failed, n)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&opt.Output, "output", "o", "", "OCI layout directory to add the images to (default: the embedded store)")
	cmd.Flags().StringVar(&opt.Tarball, "tarball", "", "also write a docker-archive tarball (podman load / docker load) of one architecture")
	cmd.Flags().StringVar(&opt.TarballArch, "tarball-arch", "", "architecture of the tarball (default: the definition's first)")
	cmd.Flags().StringVar(&opt.Push, "push", "", "also push the image index to this registry reference (docker credentials)")
	cmd.Flags().StringVar(&opt.Variant, "variant", "", "the variant (docs/variants.md) that gets --tarball and --push instead of the runtime image; every image of the definition is built")
	cmd.Flags().BoolVar(&opt.Force, "force", false, "rebuild even when the output already holds this build")
	cmd.Flags().IntVar(&opt.Parallel, "parallel", 0, "definitions built at once (default: number of CPUs)")
	cmd.Flags().StringVar(&signKey, "sign-key", "", "sign the index and each platform manifest with this cosign-format key and attach SBOMs and provenance as signed attestations (password: $TEMPER_PASSWORD or a prompt)")
	cmd.Flags().StringVar(&opt.SBOMDir, "sbom-dir", "", "also write each architecture's SPDX and CycloneDX SBOMs into this directory")
	addGateFlags(cmd, &gf)
	return cmd
}

// buildSetup fills in the options the flags do not carry (the store, the
// fetcher, progress output) and finds the definitions to build.
func buildSetup(g *globalFlags, cmd *cobra.Command, opt *build.Options, args []string) ([]string, error) {
	_, mirrors, err := g.archiveClient()
	if err != nil {
		return nil, err
	}
	c, err := g.cache()
	if err != nil {
		return nil, err
	}
	if opt.Output == "" {
		if opt.Output, err = build.DefaultStore(); err != nil {
			return nil, fmt.Errorf("no image store: %w; pass --output DIR", err)
		}
	}
	files, err := spec.FindDefinitions(args)
	if err != nil {
		return nil, err
	}
	if len(files) > 1 && (opt.Tarball != "" || opt.Push != "") {
		return nil, usageError{fmt.Errorf("--tarball and --push take one definition, not %d", len(files))}
	}
	// One updating progress line only makes sense for one build.
	tty := term.IsTerminal(int(os.Stderr.Fd())) && opt.Parallelism(len(files)) == 1
	opt.Fetcher = g.debFetcher(mirrors.Mirrors, c)
	opt.Fetcher.Progress, opt.Fetcher.Terminal = cmd.ErrOrStderr(), tty
	opt.Log = cmd.ErrOrStderr()
	if conf, err := config.Find(g.config); err == nil {
		opt.Compression, opt.LayerBudget = conf.Compression, conf.LayerBudget
	}
	opt.Layers = &oci.LayerCache{Dir: filepath.Join(c.Dir, "layers")}
	opt.MemoDir = filepath.Join(c.Dir, "builds")
	return files, nil
}

// printOutcome prints one build's line and reports whether it succeeded.
func printOutcome(cmd *cobra.Command, o build.Outcome, output string) bool {
	res := o.Result
	switch {
	case o.Err != nil:
		fmt.Fprintf(cmd.ErrOrStderr(), "error: %v\n", o.Err)
		return false
	case res.Skipped:
		fmt.Fprintf(cmd.OutOrStdout(), "%s: %s up to date in %s (%s), skipped\n", o.File, res.Ref, output, res.IndexDigest)
	case res.Memo:
		fmt.Fprintf(cmd.OutOrStdout(), "%s: built %s %s in %.2fs from the build memo\n", o.File, res.Ref, res.IndexDigest, res.Elapsed.Seconds())
	default:
		fmt.Fprintf(cmd.OutOrStdout(), "%s: built %s %s in %.2fs (%d .debs fetched, %d cached)\n", o.File, res.Ref, res.IndexDigest, res.Elapsed.Seconds(), res.Fetch.Downloaded, res.Fetch.Cached)
	}
	return true
}

// checkVariant refuses --variant for a definition without that variant
// before anything is built.
func checkVariant(files []string, name string) error {
	if len(files) != 1 {
		return usageError{fmt.Errorf("--variant takes one definition, not %d", len(files))}
	}
	def, err := spec.LoadDefinition(files[0])
	if err != nil {
		return err
	}
	_, err = def.ForVariant(name)
	return err
}
