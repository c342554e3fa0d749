package main

import (
	"fmt"
	"os"
	"runtime"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/lock"
)

func newBuildCommand(g *globalFlags) *cobra.Command {
	var opt build.Options
	var parallel int
	var signKey string
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
definition) is already in the output are skipped.`,
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
			_, mirrors, err := g.archiveClient()
			if err != nil {
				return err
			}
			c, err := g.cache()
			if err != nil {
				return err
			}
			if opt.Output == "" {
				if opt.Output, err = build.DefaultStore(); err != nil {
					return fmt.Errorf("no image store: %w; pass --output DIR", err)
				}
			}
			files, err := lock.FindDefinitions(args)
			if err != nil {
				return err
			}
			if len(files) > 1 && (opt.Tarball != "" || opt.Push != "") {
				return usageError{fmt.Errorf("--tarball and --push take one definition, not %d", len(files))}
			}
			if parallel <= 0 {
				parallel = runtime.GOMAXPROCS(0)
			}
			parallel = min(parallel, len(files))
			// One updating progress line only makes sense for one build.
			tty := term.IsTerminal(int(os.Stderr.Fd())) && parallel == 1
			opt.Fetcher = g.debFetcher(mirrors.Mirrors, c)
			opt.Fetcher.Progress, opt.Fetcher.Terminal = cmd.ErrOrStderr(), tty
			opt.Log = cmd.ErrOrStderr()
			// Builds run side by side (each is mostly one core of gzip and
			// zstd); results print in the order of the definitions.
			type outcome struct {
				res  *build.Result
				err  error
				done chan struct{}
			}
			outs := make([]outcome, len(files))
			sem := make(chan struct{}, parallel)
			for i, f := range files {
				outs[i].done = make(chan struct{})
				go func() {
					defer close(outs[i].done)
					sem <- struct{}{}
					defer func() { <-sem }()
					outs[i].res, outs[i].err = build.Build(cmd.Context(), f, opt)
				}()
			}
			failed := 0
			for i, f := range files {
				<-outs[i].done
				res, err := outs[i].res, outs[i].err
				if err != nil {
					failed++
					fmt.Fprintf(cmd.ErrOrStderr(), "error: %v\n", err)
					continue
				}
				if res.Skipped {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %s up to date in %s (%s), skipped\n", f, res.Ref, opt.Output, res.IndexDigest)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: built %s %s in %.2fs (%d .debs fetched, %d cached)\n", f, res.Ref, res.IndexDigest, res.Elapsed.Seconds(), res.Fetch.Downloaded, res.Fetch.Cached)
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d builds failed", failed, len(files))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&opt.Output, "output", "o", "", "OCI layout directory to add the images to (default: the embedded store)")
	cmd.Flags().StringVar(&opt.Tarball, "tarball", "", "also write a docker-archive tarball (podman load / docker load) of one architecture")
	cmd.Flags().StringVar(&opt.TarballArch, "tarball-arch", "", "architecture of the tarball (default: the definition's first)")
	cmd.Flags().StringVar(&opt.Push, "push", "", "also push the image index to this registry reference (docker credentials)")
	cmd.Flags().BoolVar(&opt.Force, "force", false, "rebuild even when the output already holds this build")
	cmd.Flags().IntVar(&parallel, "parallel", 0, "definitions built at once (default: number of CPUs)")
	cmd.Flags().StringVar(&signKey, "sign-key", "", "sign the index and each platform manifest with this cosign-format key and attach SBOMs and provenance as signed attestations (password: $TEMPER_PASSWORD or a prompt)")
	cmd.Flags().StringVar(&opt.SBOMDir, "sbom-dir", "", "also write each architecture's SPDX and CycloneDX SBOMs into this directory")
	return cmd
}
