package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/config"
	"github.com/temper-dev/temper/internal/evidence"
	"github.com/temper-dev/temper/internal/release"
)

func newVerifyCommand(g *globalFlags) *cobra.Command {
	var keyPath, channel string
	cmd := &cobra.Command{
		Use:   "verify REF --key cosign.pub",
		Short: "Check a published image's signatures, attestations and SBOMs against a public key",
		Long: `Check an image temper built and pushed with --sign-key:

  - the image index and every platform manifest carry a cosign signature
    (sha256-<hex>.sig) made by the key;
  - every attestation (sha256-<hex>.att) verifies with the key and is about
    that digest; the index has SLSA provenance, each platform SLSA
    provenance, an SPDX and a CycloneDX SBOM;
  - each platform's SPDX package list equals the packages the image's own
    /var/lib/dpkg/status.d records (name and version);
  - the index's OpenVEX attestation, when the build ran the vulnerability
    gate: an OpenVEX v0.2.0 document whose statements are about this index.

Every failure is printed, named; the exit status is 1 when any check fails.`,
		Example: "  temper verify registry.example/team/python:3.11 --key cosign.pub",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyPath == "" {
				return usageError{errors.New("--key is required")}
			}
			data, err := os.ReadFile(keyPath)
			if err != nil {
				return fmt.Errorf("public key: %w", err)
			}
			v, err := attest.LoadPublicKey(data)
			if err != nil {
				return fmt.Errorf("public key %s: %w", keyPath, err)
			}
			rep, err := evidence.Verify(cmd.Context(), args[0], v)
			out := cmd.OutOrStdout()
			if channel != "" {
				err = errors.Join(err, verifyChannel(cmd, g, args[0], v, channel))
			}
			if rep != nil {
				fmt.Fprintf(out, "%s: index %s\n", rep.Ref, rep.IndexDigest)
				for _, p := range rep.Platforms {
					fmt.Fprintf(out, "  %s %s: %d packages; attestations: %s\n", p.Arch, p.Digest, p.Packages, strings.Join(p.Predicates, ", "))
				}
				if rep.OpenVEX != nil {
					fmt.Fprintf(out, "  OpenVEX %s: %s\n", rep.OpenVEX.ID, rep.OpenVEX.Summary())
				}
			}
			if err != nil {
				var lines []string
				for _, e := range unwrapJoin(err) {
					lines = append(lines, "  FAIL "+e.Error())
				}
				return fmt.Errorf("verification of %s failed:\n%s", args[0], strings.Join(lines, "\n"))
			}
			fmt.Fprintf(out, "verified: signatures, attestations and SBOMs of %s match %s\n", args[0], keyPath)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "public key (cosign.pub)")
	cmd.Flags().StringVar(&channel, "channel", "", "also check that the digest came through the channels into this one (signed "+release.PromotionPredicate+" attestations)")
	return cmd
}

// verifyChannel checks the promotion chain into channel (channels from
// --config, else ./temper.yaml, else the defaults) and prints it. A
// channel the configuration does not name is refused before the registry
// is asked.
func verifyChannel(cmd *cobra.Command, g *globalFlags, ref string, v *attest.Verifier, channel string) error {
	conf, err := config.Find(g.config)
	if err != nil {
		return err
	}
	chs, err := release.ParseChannels(conf.Channels)
	if err != nil {
		return err
	}
	var names []string
	for _, c := range chs {
		names = append(names, c.Name)
	}
	if !slices.Contains(names, channel) {
		from := "the default channels"
		if g.config != "" {
			from = g.config
		} else if len(conf.Channels) > 0 {
			from = config.FileName
		}
		return fmt.Errorf("--channel %s: not a channel of %s (%s); name one of them, or point --config at the catalog's %s", channel, from, strings.Join(names, ", "), config.FileName)
	}
	chain, err := release.VerifyChannel(cmd.Context(), ref, v, chs, channel)
	for _, p := range chain.Moves {
		fmt.Fprintf(cmd.OutOrStdout(), "  promotion %s → %s %s (%s, %s): %s\n", releaseDash(p.From), p.To, p.Release, p.Kind, releaseStamp(p.Time), p.Rule)
	}
	return err
}

func unwrapJoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
