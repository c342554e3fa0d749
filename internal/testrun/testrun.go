// Package testrun runs a definition's tests against its built image:
// structure tests (paths, modes, owners, the image configuration and the
// hardening defaults) read the image's layers and need no runtime; command
// and service tests run the image through a container engine (podman or
// docker) read-only, without network unless a service must be reached, as
// the image's own user. Every outcome records what ran, what was expected
// and what happened, for the summary, JSON and JUnit reports.
package testrun

import (
	"context"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/temper-dev/temper/internal/spec"
)

// Status of a test.
type Status string

// Statuses.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Outcome is one test's result.
type Outcome struct {
	Name     string        `json:"name"`
	Kind     string        `json:"kind"` // path, config, command, service, hardening
	Status   Status        `json:"status"`
	Duration time.Duration `json:"duration_ns"`
	// Command is what ran (engine command lines, one per step), when
	// something ran.
	Command []string `json:"command,omitempty"`
	// Expected and Actual say what the test wanted and what it found.
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	// Message explains a failure or a skip in one line.
	Message string `json:"message,omitempty"`
	// Logs are the container's output for a failed service test.
	Logs string `json:"logs,omitempty"`
}

// Report is the outcome of one image's tests.
type Report struct {
	Definition string        `json:"definition"`
	Image      string        `json:"image"` // NAME:VERSION
	Arch       string        `json:"arch"`
	Digest     string        `json:"digest,omitempty"`
	Source     string        `json:"source,omitempty"` // where the image was read from
	Engine     string        `json:"engine,omitempty"`
	Tests      []Outcome     `json:"tests"`
	Duration   time.Duration `json:"duration_ns"`
	// Err is an error that kept the tests from running at all.
	Err string `json:"error,omitempty"`
}

// Failed counts failed tests (an image that could not be tested counts as
// one failure).
func (r *Report) Failed() int {
	n := 0
	if r.Err != "" {
		n++
	}
	for _, o := range r.Tests {
		if o.Status == Fail {
			n++
		}
	}
	return n
}

// Count returns the number of tests with status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, o := range r.Tests {
		if o.Status == s {
			n++
		}
	}
	return n
}

// Options say how to run.
type Options struct {
	// Engine runs command and service tests; nil skips them.
	Engine Engine
	// EngineRef is an image the engine already holds (e.g. --image
	// localhost/python:3.11); "" loads the image under test into the engine.
	EngineRef string
	// KeepImage keeps an image temper loaded into the engine afterwards
	// (later runs then skip the load).
	KeepImage bool
	// CommandTimeout bounds each command test (default 2 minutes).
	CommandTimeout time.Duration
}

// Target is the image under test.
type Target struct {
	Def    *spec.Definition
	Image  v1.Image
	Source string
}

// Run runs every test of the definition against the image, in the
// definition's order after the implicit hardening checks.
func Run(ctx context.Context, t Target, opt Options) *Report {
	start := time.Now()
	rep := &Report{Definition: t.Def.File, Image: t.Def.Name + ":" + t.Def.Version, Source: t.Source}
	defer func() { rep.Duration = time.Since(start) }()
	if d, err := t.Image.Digest(); err == nil {
		rep.Digest = d.String()
	}
	tr, err := readTree(t.Image)
	if err != nil {
		rep.Err = err.Error()
		return rep
	}
	rep.Arch = debianArch(tr.arch)
	rep.Tests = append(rep.Tests, hardeningChecks(t.Def, tr)...)

	if opt.CommandTimeout == 0 {
		opt.CommandTimeout = 2 * time.Minute
	}
	r := &runner{def: t.Def, tr: tr, opt: opt}
	switch {
	case opt.Engine == nil:
		r.skip = "no container engine"
	case rep.Arch != HostArch():
		r.skip = fmt.Sprintf("a %s image does not run on this %s machine", rep.Arch, HostArch())
	default:
		r.eng = opt.Engine
		rep.Engine = r.eng.Name()
	}
	if r.eng != nil && needsEngine(t.Def) {
		unload := r.load(ctx, t.Image, "localhost/temper-test/"+t.Def.Name+":"+t.Def.Version+"-"+rep.Arch)
		defer unload()
	}
	for _, test := range t.Def.Tests {
		ts := time.Now()
		o := r.run(ctx, test)
		o.Name, o.Kind = test.Name, test.Kind()
		o.Duration = time.Since(ts)
		rep.Tests = append(rep.Tests, o)
	}
	return rep
}

// runner runs one image's tests.
type runner struct {
	def *spec.Definition
	tr  *tree
	opt Options
	eng Engine // nil when tests that run the image are skipped
	// skip says why tests that run the image are skipped.
	skip string
	// ref is the image as the engine knows it; loadErr why it could not
	// be loaded.
	ref, loadErr string
}

func needsEngine(def *spec.Definition) bool {
	for _, test := range def.Tests {
		if test.Command != nil || test.Service != nil {
			return true
		}
	}
	return false
}

// load makes the engine hold the image (unless the user named one it
// holds) and returns what undoes that afterwards.
func (r *runner) load(ctx context.Context, img v1.Image, tag string) (unload func()) {
	if r.opt.EngineRef != "" {
		r.ref = r.opt.EngineRef
		return func() {}
	}
	ref, loaded, err := r.eng.Load(ctx, img, tag)
	if err != nil {
		r.loadErr = err.Error()
	}
	r.ref = ref
	if !loaded || r.opt.KeepImage {
		return func() {}
	}
	return func() { r.eng.Unload(context.WithoutCancel(ctx), ref) }
}

// run runs one test.
func (r *runner) run(ctx context.Context, test spec.Test) Outcome {
	switch {
	case test.Path != nil:
		return pathTest(r.tr, test.Path)
	case test.Config != nil:
		return configTest(r.tr, test.Config)
	case r.skip != "":
		return Outcome{Status: Skip, Message: r.skip}
	case r.loadErr != "":
		return Outcome{Status: Fail, Message: "loading the image into " + r.eng.Name() + ": " + r.loadErr}
	case test.Command != nil:
		return commandTest(ctx, r.eng, r.ref, r.tr, test.Command, r.opt.CommandTimeout)
	case test.Service != nil:
		return serviceTest(ctx, r.eng, r.ref, r.def, r.tr, test.Service)
	}
	return Outcome{}
}

// Source says where the images under test are read from.
type Source struct {
	// Layout is an OCI layout holding each definition's image under
	// NAME:VERSION (what temper build writes).
	Layout string
	// EngineRef is an image the engine already holds; it takes the place
	// of Layout (one definition only).
	EngineRef string
	// Arch is the architecture to test (default: this machine's).
	Arch string
	// Variant is the image of the definition that EngineRef holds, or
	// that RunFile tests: "" for the runtime, else one of its variants
	// (docs/variants.md). RunFiles tests every image of each definition
	// unless EngineRef is set.
	Variant string
}

// RunFile loads a definition and runs its tests against its image.
func RunFile(ctx context.Context, defPath string, src Source, opt Options) *Report {
	def, err := spec.LoadDefinition(defPath)
	if err != nil {
		return &Report{Definition: defPath, Err: err.Error()}
	}
	if src.Variant != "" {
		// The variant's tests: the runtime's that still apply and its own.
		if def, err = def.ForVariant(src.Variant); err != nil {
			return &Report{Definition: defPath, Err: err.Error()}
		}
	}
	arch := src.Arch
	if arch == "" {
		arch = HostArch()
	}
	t := Target{Def: def}
	if src.EngineRef != "" {
		if opt.Engine == nil {
			return &Report{Definition: defPath, Image: def.Name + ":" + def.Version, Err: "--image needs a container engine"}
		}
		img, cleanup, err := opt.Engine.Save(src.EngineRef)
		if err != nil {
			return &Report{Definition: defPath, Image: def.Name + ":" + def.Version, Arch: arch, Err: err.Error()}
		}
		defer cleanup()
		t.Image, t.Source = img, opt.Engine.Name()+":"+src.EngineRef
		opt.EngineRef = src.EngineRef
	} else {
		ref := def.Name + ":" + def.Version
		img, err := FromLayout(src.Layout, ref, arch)
		if err != nil {
			return &Report{Definition: defPath, Image: ref, Arch: arch, Err: fmt.Sprintf("%v (build it first: temper build %s -o %s)", err, defPath, src.Layout)}
		}
		t.Image, t.Source = img, "oci:"+src.Layout+":"+ref
	}
	return Run(ctx, t, opt)
}

// RunFiles tests several definitions and their variants, parallel at a
// time (default 1), and returns their reports in the order given, each
// runtime followed by its variants.
func RunFiles(ctx context.Context, files []string, src Source, opt Options, parallel int) []*Report {
	if parallel < 1 {
		parallel = 1
	}
	type target struct {
		file string
		src  Source
	}
	var targets []target
	for _, f := range files {
		targets = append(targets, target{f, src})
		if src.EngineRef != "" {
			continue // one image, the one src.Variant names
		}
		if def, err := spec.LoadDefinition(f); err == nil {
			for _, v := range def.VariantNames() {
				vs := src
				vs.Variant = v
				targets = append(targets, target{f, vs})
			}
		}
	}
	out := make([]*Report, len(targets))
	var g errgroup.Group
	g.SetLimit(parallel)
	for i, t := range targets {
		g.Go(func() error {
			out[i] = RunFile(ctx, t.file, t.src, opt)
			return nil
		})
	}
	g.Wait()
	return out
}
