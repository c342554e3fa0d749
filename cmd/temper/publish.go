package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/config"
	"github.com/temper-dev/temper/internal/debian/lifecycle"
	"github.com/temper-dev/temper/internal/evidence"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/store"
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

// publisher holds what every stream of one publish run shares.
type publisher struct {
	g      *globalFlags
	f      *publishFlags
	svc    *release.Service
	opt    build.Options
	test   testrun.Options
	gate   *publishGate
	conf   *config.Config
	life   map[string]lifecycle.Release
	out    io.Writer
	layout string
}

func (f *publishFlags) run(cmd *cobra.Command, g *globalFlags, args []string) error {
	ctx := cmd.Context()
	p, err := f.publisher(cmd, g, args)
	if err != nil {
		return err
	}
	defer p.svc.Store.Close()
	files, err := buildSetup(g, cmd, &p.opt, args)
	if err != nil {
		return err
	}
	p.layout = p.opt.Output
	failed := 0
	for _, file := range files {
		if err := p.one(ctx, file); err != nil {
			var r *release.Refusal
			if !errors.As(err, &r) {
				fmt.Fprintln(cmd.ErrOrStderr(), "error:", err)
			} else {
				fmt.Fprintln(p.out, "refused:", err)
			}
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d streams were not published", failed, len(files))
	}
	return nil
}

func (f *publishFlags) publisher(cmd *cobra.Command, g *globalFlags, args []string) (*publisher, error) {
	p := &publisher{g: g, f: f, out: cmd.OutOrStdout()}
	var err error
	if p.conf, err = config.Find(g.config); err != nil {
		return nil, err
	}
	if p.test, err = f.engineFlags.options(); err != nil {
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
	if p.gate, err = newPublishGate(g, c, reason, f.allowStale); err != nil {
		return nil, err
	}
	if f.signKey != "" {
		if p.opt.Signer, err = loadSigner(f.signKey); err != nil {
			return nil, err
		}
	}
	key := f.signKey
	f.signKey = "" // the service's attester is made from the signer below
	if p.svc, err = f.service(cmd.Context(), g); err != nil {
		return nil, err
	}
	f.signKey = key
	if p.opt.Signer != nil {
		p.svc.Attest = release.PromotionAttester(p.svc.Tags.(release.Artifacts), p.opt.Signer)
	}
	return p, nil
}

// one publishes one definition, unless its build key is released.
func (p *publisher) one(ctx context.Context, file string) error {
	def, l, err := build.Load(file)
	if err != nil {
		return err
	}
	name, key := build.RefName(def), build.BuildKey(def, l)
	if rel, ok := p.released(ctx, name, key); ok {
		fmt.Fprintf(p.out, "%s: %s already released as %s (%s)\n", file, name, rel.Tag, rel.Digest)
		return nil
	}
	st := store.Stream{Name: name, Definition: file, EOL: p.eol(ctx, def)}
	if old, err := p.svc.Store.Stream(ctx, name); err == nil && st.EOL == "" {
		st.EOL = old.EOL // lifecycle data unavailable this run
	}
	fail := func(step string, err error) error {
		_ = p.svc.Store.PutStream(ctx, st)
		_ = p.svc.Store.RecordFailure(ctx, store.Failure{Stream: name, BuildKey: key, Step: step, Message: err.Error(), At: p.g.now()})
		return fmt.Errorf("%s: %s: %w (recorded; nothing pushed)", name, step, err)
	}
	c, err := p.candidate(ctx, file, def, l, st)
	if err != nil {
		return fail("build", err)
	}
	if c.Tests.Passed && c.Gate.Passed && p.opt.Signer != nil {
		if c.Evidence, err = p.sign(def, l, c.Index); err != nil {
			return fail("sign", err)
		}
	}
	pub, err := p.svc.Publish(ctx, c)
	if err != nil {
		return err
	}
	p.report(file, pub, c)
	return nil
}

// released finds a published release of this build key.
func (p *publisher) released(ctx context.Context, stream, key string) (store.Release, bool) {
	rels, err := p.svc.Store.Releases(ctx, stream)
	if err != nil {
		return store.Release{}, false
	}
	for _, r := range rels {
		if r.BuildKey == key && r.State == store.Published {
			return r, true
		}
	}
	return store.Release{}, false
}

// candidate builds (or reuses the build of) one definition and runs its
// tests and the gate; the diff and CVEs fixed are against the stream's
// newest release.
func (p *publisher) candidate(ctx context.Context, file string, def *spec.Definition, l *spec.Lock, st store.Stream) (release.Candidate, error) {
	opt := p.opt
	opt.Signer = nil // signed after the tests and the gate, not before
	res, err := build.Build(ctx, file, opt)
	if err != nil {
		return release.Candidate{}, err
	}
	built := p.g.now()
	idx, err := oci.ReadLayoutRef(p.layout, res.Ref)
	if err != nil {
		return release.Candidate{}, err
	}
	text, err := l.Marshal()
	if err != nil {
		return release.Candidate{}, err
	}
	c := release.Candidate{Stream: st, Index: idx, Digest: res.IndexDigest, LockDigest: l.Digest(), BuildKey: res.BuildKey,
		Lock: string(text), ArchivePublished: archiveDate(l), Detected: detected(def.LockPath(), built), Built: built}
	c.Tests = p.tests(ctx, def, idx)
	c.Scan, c.Gate = p.gate.evaluate(file, l, p.g.now())
	prev := p.newest(ctx, st.Name)
	var prevLock *spec.Lock
	if prev.Lock != "" {
		prevLock, _ = spec.ParseLock(prev.Tag+".lock", []byte(prev.Lock))
	}
	if prev.ID != 0 {
		c.Packages, c.CVEsFixed = lockDiff(prevLock, l), cvesFixed(prev.Scan, c.Scan)
	}
	return c, nil
}

func (p *publisher) newest(ctx context.Context, stream string) store.Release {
	rels, _ := p.svc.Store.Releases(ctx, stream)
	for _, r := range rels {
		if r.State == store.Published {
			return r
		}
	}
	return store.Release{}
}

// archiveDate is when the archive published the lock's newest suite.
func archiveDate(l *spec.Lock) time.Time {
	var t time.Time
	for _, s := range l.Suites {
		if s.Date.After(t) {
			t = s.Date
		}
	}
	return t
}

// detected is when temper saw the change: the lock's last write (`temper
// lock` rewrites it only when its content changes).
func detected(lockPath string, fallback time.Time) time.Time {
	if fi, err := os.Stat(lockPath); err == nil {
		return fi.ModTime().UTC()
	}
	return fallback
}

// sign makes the build's signatures and attestations for the repository
// the release goes to.
func (p *publisher) sign(def *spec.Definition, l *spec.Lock, idx v1.ImageIndex) (*attest.Bundle, error) {
	in := build.EvidenceInput(def, l, idx)
	in.Repo, in.Signer = p.svc.Tags.(release.Artifacts).Repository(def.Name), p.opt.Signer
	if p.opt.Fetcher != nil {
		in.Mirrors = p.opt.Fetcher.Mirrors
	}
	ev, err := evidence.Make(in)
	if err != nil {
		return nil, err
	}
	return ev.Bundle, nil
}

func (p *publisher) report(file string, pub release.Published, c release.Candidate) {
	r := pub.Release
	what := "published"
	if pub.Reconciled {
		what = "recorded (pushed by an earlier run)"
	}
	fmt.Fprintf(p.out, "%s: %s %s:%s %s; tests: %s; gate: %s; %d packages changed, %d CVEs fixed\n",
		file, what, c.Stream.Name, r.Tag, r.Digest, c.Tests.Summary, c.Gate.Summary, len(r.Packages), len(r.CVEsFixed))
}
