package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/config"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/store"
)

// releaseFlags are the flags every release command shares.
type releaseFlags struct {
	state    string
	registry string
	// signKey, when set, signs a promotion attestation for every move
	// (commands that move channels register it).
	signKey string
}

func (f *releaseFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.state, "state", "", "release state: a SQLite file, or postgres://... (default: the user data dir/temper/"+store.DefaultFile+")")
	c.Flags().StringVar(&f.registry, "registry", "", "registry HOST/PREFIX holding releases and channel tags (default: the local image store)")
}

func (f *releaseFlags) registerSign(c *cobra.Command) {
	c.Flags().StringVar(&f.signKey, "sign-key", "", "sign a promotion attestation ("+release.PromotionPredicate+") for every channel move with this cosign-format key (password: $TEMPER_PASSWORD or a prompt)")
}

// service opens the store and the registry the flags (then temper.yaml's
// registry: and channels:) name, with the promotion attester when a key
// is given. The caller closes the store.
func (f *releaseFlags) service(ctx context.Context, g *globalFlags) (*release.Service, error) {
	conf, err := config.Find(g.config)
	if err != nil {
		return nil, err
	}
	chs, err := release.ParseChannels(conf.Channels)
	if err != nil {
		return nil, err
	}
	tags, err := f.tags(conf.Registry)
	if err != nil {
		return nil, err
	}
	svc := &release.Service{Tags: tags, Now: g.now, Channels: chs, FastTrackUrgency: conf.FastTrack.Urgency}
	if f.signKey != "" {
		s, err := loadSigner(f.signKey)
		if err != nil {
			return nil, err
		}
		svc.Attest = release.PromotionAttester(tags.(release.Artifacts), s)
	}
	if svc.Store, err = store.Open(ctx, f.state); err != nil {
		return nil, err
	}
	return svc, nil
}

func (f *releaseFlags) tags(configured string) (release.Tags, error) {
	if f.registry == "" {
		f.registry = configured
	}
	if f.registry != "" {
		return release.RemoteTags{Prefix: f.registry, Options: []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}}, nil
	}
	dir, err := build.DefaultStore()
	if err != nil {
		return nil, fmt.Errorf("no local image store: %w; pass --registry HOST/PREFIX", err)
	}
	return release.LayoutTags{Dir: dir}, nil
}

// releaseStreamArgs expands arguments into stream names: NAME:VERSION is a
// stream, anything else a file or directory whose recorded definitions
// are taken.
func releaseStreamArgs(ctx context.Context, s store.Store, args []string) ([]string, error) {
	var out []string
	var all []store.Stream
	for _, a := range args {
		if _, _, err := release.SplitStream(a); err == nil {
			if _, statErr := os.Stat(a); statErr != nil {
				out = append(out, a)
				continue
			}
		}
		abs, err := filepath.Abs(a)
		if err != nil {
			return nil, err
		}
		if all == nil {
			if all, err = s.Streams(ctx); err != nil {
				return nil, err
			}
		}
		n := len(out)
		for _, st := range all {
			def, err := filepath.Abs(st.Definition)
			if err == nil && (def == abs || strings.HasPrefix(def, abs+string(filepath.Separator))) {
				out = append(out, st.Name)
			}
		}
		if len(out) == n {
			return nil, fmt.Errorf("%s: no released stream has its definition there", a)
		}
	}
	return out, nil
}

// releaseReportMove prints a move or a refusal; a refusal is returned so the
// caller can end with exit status 1 after the other streams are done.
func releaseReportMove(w io.Writer, stream string, m release.Moved, err error) error {
	var r *release.Refusal
	switch {
	case errors.As(err, &r):
		fmt.Fprintln(w, "refused:", err)
		return err
	case err != nil:
		return err
	case m.Already:
		fmt.Fprintf(w, "%s: %s already there\n", stream, m.Release.Tag)
	default:
		fmt.Fprintf(w, "%s: %s → %s (%s: %s)\n", stream, m.Release.Tag, m.Move.Channel, m.Move.Kind, m.Move.Reason)
	}
	return nil
}

func newPromoteCommand(g *globalFlags) *cobra.Command {
	var f releaseFlags
	var to, reason string
	var force bool
	c := &cobra.Command{
		Use:   "promote STREAM...|DIR --to CHANNEL",
		Short: "Move each stream's release from the previous channel when the rules hold",
		Long: `promote moves each stream's release from the channel before CHANNEL into
CHANNEL when the rules hold: it soaked long enough in the previous channel,
its full tests passed, its gate passes, it was not rolled back, and the
stream is not frozen. A refusal names the rule (and, for soak, the date the
release becomes eligible). A runtime and its variants (NAME:VERSION-VARIANT)
move together: naming either moves both, and when one is refused neither
moves. --force --reason TEXT overrides every rule but
the freeze and records the reason.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return usageError{errors.New("--to CHANNEL is required")}
			}
			ctx := cmd.Context()
			svc, err := f.gatedService(ctx, g)
			if err != nil {
				return err
			}
			defer svc.Store.Close()
			streams, err := releaseStreamArgs(ctx, svc.Store, args)
			if err != nil {
				return err
			}
			// A runtime and its variants move together (docs/variants.md):
			// each group once, whichever of its streams is named.
			var failed error
			done := map[string]bool{}
			for _, s := range streams {
				if done[s] {
					continue
				}
				group, err := svc.Group(ctx, s)
				if err != nil {
					return err
				}
				for _, m := range group {
					done[m] = true
				}
				ms, err := svc.PromoteGroup(ctx, s, to, release.PromoteOptions{Force: force, Reason: reason})
				for _, m := range ms {
					if err := releaseReportMove(cmd.OutOrStdout(), m.Stream, m, nil); err != nil {
						return err
					}
				}
				if err != nil {
					if err := releaseReportMove(cmd.OutOrStdout(), s, release.Moved{}, err); err != nil {
						var r *release.Refusal
						if !errors.As(err, &r) {
							return err
						}
						failed = exitStatus(exitError)
					}
				}
			}
			return failed
		},
	}
	f.register(c)
	f.registerSign(c)
	c.Flags().StringVar(&to, "to", "", "channel to promote into")
	c.Flags().BoolVar(&force, "force", false, "override the rules (not the freeze); needs --reason")
	c.Flags().StringVar(&reason, "reason", "", "why the rules are overridden (recorded)")
	return c
}

func newRollbackCommand(g *globalFlags) *cobra.Command {
	var f releaseFlags
	var channel, to, reason string
	c := &cobra.Command{
		Use:   "rollback STREAM --channel CHANNEL [--to RELEASE]",
		Short: "Move a channel back to the previous (or named) release that was in it",
		Long: `rollback moves CHANNEL back to the release it held before the current one
(or to RELEASE, a release tag that was in it), and records why. The release
rolled back from is not promoted again unless forced. A runtime and its
variants (NAME:VERSION-VARIANT) go back together: naming either moves the
named one as above and the others to their matching releases (a variant's
release built with the runtime's), each of which must have been in CHANNEL.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if channel == "" {
				return usageError{errors.New("--channel CHANNEL is required")}
			}
			svc, err := f.service(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer svc.Store.Close()
			// A runtime and its variants go back together (docs/variants.md).
			ms, err := svc.RollbackGroup(cmd.Context(), args[0], channel, to, reason)
			for _, m := range ms {
				if err := releaseReportMove(cmd.OutOrStdout(), m.Stream, m, nil); err != nil {
					return err
				}
			}
			return err
		},
	}
	f.register(c)
	f.registerSign(c)
	c.Flags().StringVar(&channel, "channel", "", "channel to move back")
	c.Flags().StringVar(&to, "to", "", "release tag to move back to (default: the previous one)")
	c.Flags().StringVar(&reason, "reason", "", "why (recorded)")
	return c
}

func releaseWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
