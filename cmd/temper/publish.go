package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/config"
	"github.com/temper-dev/temper/internal/pipeline"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/testrun"
)

// publishFlags are temper publish's flags.
type publishFlags struct {
	releaseFlags
	engineFlags
	skipGate   bool
	reason     string
	allowStale bool
	distroInfo string
}

// engineFlags choose the container engine the tests run in.
type engineFlags struct {
	engine   string
	noEngine bool
}

func (e *engineFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&e.engine, "engine", "", "container engine for command and service tests: podman or docker (default: the first found)")
	c.Flags().BoolVar(&e.noEngine, "no-engine", false, "run only the structure tests")
}

func (e *engineFlags) options() (testrun.Options, error) {
	if e.noEngine {
		return testrun.Options{}, nil
	}
	eng, err := testrun.FindEngine(e.engine)
	if err != nil {
		return testrun.Options{}, fmt.Errorf("%w; install podman or docker, or pass --no-engine", err)
	}
	return testrun.Options{Engine: eng}, nil
}

func newPublishCommand(g *globalFlags) *cobra.Command {
	var f publishFlags
	c := &cobra.Command{
		Use:   "publish DEFINITION.yaml|DIR... [--registry HOST/PREFIX] [--sign-key K]",
		Short: "Release every stream whose lock changed: build, test, gate, sign, push, tag the first channel",
		Long: `publish releases each definition whose build (lock + definition) has no
release yet: it builds it (reusing the build in the local image store), runs
the definition's tests, runs the scan gate with the cached vulnerability data,
signs it (--sign-key), pushes the immutable tag <version>-<YYYYMMDD>.<N>, sets
the first channel's tag and records the release with its package diff, the
CVEs it fixes and its patch latency. Nothing is pushed when a step fails;
the failure is recorded (temper history) and reported. Publishing the same
build twice makes one release. Without vulnerability data the gate fails
("no data") unless --skip-gate --reason TEXT.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.skipGate && f.reason == "" {
				return usageError{errors.New("--skip-gate needs --reason")}
			}
			return f.run(cmd, g, args)
		},
	}
	f.releaseFlags.register(c)
	f.engineFlags.register(c)
	c.Flags().StringVar(&f.signKey, "sign-key", "", "sign the image, its SBOMs and provenance, and the promotion into the first channel, with this cosign-format key (password: $TEMPER_PASSWORD or a prompt)")
	c.Flags().BoolVar(&f.skipGate, "skip-gate", false, "publish even when the scan gate fails or has no data; needs --reason")
	c.Flags().StringVar(&f.reason, "reason", "", "why the gate is skipped (recorded)")
	c.Flags().BoolVar(&f.allowStale, "allow-stale", false, "decide the gate on data older than the policy's max_age")
	c.Flags().StringVar(&f.distroInfo, "distro-info", "", "Debian lifecycle data (distro-info-data's debian.csv) instead of reading it from the archive")
	return c
}

// publisher is one publish run: the shared pipeline and where it prints.
type publisher struct {
	*pipeline.Publisher
	out io.Writer
}

func (f *publishFlags) run(cmd *cobra.Command, g *globalFlags, args []string) error {
	ctx := cmd.Context()
	p, err := f.publisher(cmd, g, args)
	if err != nil {
		return err
	}
	defer p.Svc.Store.Close()
	files, err := buildSetup(g, cmd, &p.Build, args)
	if err != nil {
		return err
	}
	failed := 0
	for _, file := range files {
		o, err := p.One(ctx, file)
		if err != nil {
			var r *release.Refusal
			if !errors.As(err, &r) {
				fmt.Fprintln(cmd.ErrOrStderr(), "error:", err)
			} else {
				fmt.Fprintln(p.out, "refused:", err)
			}
			failed++
			continue
		}
		p.report(o)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d streams were not published", failed, len(files))
	}
	return nil
}

func (f *publishFlags) publisher(cmd *cobra.Command, g *globalFlags, args []string) (*publisher, error) {
	p := &publisher{Publisher: &pipeline.Publisher{Now: g.now, Warn: cmd.ErrOrStderr()}, out: cmd.OutOrStdout()}
	conf, err := config.Find(g.config)
	if err != nil {
		return nil, err
	}
	p.Support = conf.Support
	if p.Test, err = f.engineFlags.options(); err != nil {
		return nil, err
	}
	c, err := g.cache()
	if err != nil {
		return nil, err
	}
	reason := ""
	if f.skipGate {
		reason = f.reason
	}
	pol, exc, err := scanPolicy(g, scanFlags{})
	if err != nil {
		return nil, err
	}
	p.Gate = pipeline.NewGate(c, pol, exc, reason, f.allowStale, g.now())
	if f.distroInfo != "" {
		p.DistroInfo = func(context.Context, string) ([]byte, error) { return os.ReadFile(f.distroInfo) }
	} else {
		p.DistroInfo = func(ctx context.Context, rel string) ([]byte, error) {
			csv, _, err := fetchDistroInfo(ctx, g, []string{rel})
			return csv, err
		}
	}
	if f.signKey != "" {
		if p.Build.Signer, err = loadSigner(f.signKey); err != nil {
			return nil, err
		}
	}
	key := f.signKey
	f.signKey = "" // the service's attester is made from the signer below
	if p.Svc, err = f.service(cmd.Context(), g); err != nil {
		return nil, err
	}
	f.signKey = key
	if p.Build.Signer != nil {
		p.Svc.Attest = release.PromotionAttester(p.Svc.Tags.(release.Artifacts), p.Build.Signer)
	}
	return p, nil
}

func (p *publisher) report(o pipeline.Outcome) {
	defer func() {
		for _, v := range o.Variants { // published together with the stream
			p.report(v)
		}
	}()
	if o.Already != nil {
		fmt.Fprintf(p.out, "%s: %s already released as %s (%s)\n", o.File, o.Stream, o.Already.Tag, o.Already.Digest)
		return
	}
	r, c := o.Published.Release, o.Candidate
	what := "published"
	if o.Published.Reconciled {
		what = "recorded (pushed by an earlier run)"
	}
	fmt.Fprintf(p.out, "%s: %s %s:%s %s; tests: %s; gate: %s; %d packages changed, %d CVEs fixed\n",
		o.File, what, c.Stream.Name, r.Tag, r.Digest, c.Tests.Summary, c.Gate.Summary, len(r.Packages), len(r.CVEsFixed))
}
