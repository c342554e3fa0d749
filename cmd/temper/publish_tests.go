package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/debian/lifecycle"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/testrun"
)

// testIndex runs a definition's tests against this machine's image of
// exactly the index given, and records the outcome as a suite's result.
func testIndex(ctx context.Context, def *spec.Definition, idx v1.ImageIndex, opt testrun.Options, suite string) store.Result {
	img, err := oci.ImageFor(idx, testrun.HostArch())
	if err != nil {
		return store.Result{Suite: suite, Summary: err.Error()}
	}
	rep := testrun.Run(ctx, testrun.Target{Def: def, Image: img, Source: "release"}, opt)
	r := store.Result{Passed: rep.Failed() == 0, Suite: suite,
		Summary: fmt.Sprintf("%d passed, %d failed, %d skipped", rep.Count(testrun.Pass), rep.Failed(), rep.Count(testrun.Skip))}
	if rep.Err != "" {
		r.Summary += ": " + rep.Err
	}
	r.Detail, _ = json.Marshal(rep)
	return r
}

func (p *publisher) tests(ctx context.Context, def *spec.Definition, idx v1.ImageIndex) store.Result {
	return testIndex(ctx, def, idx, p.test, "essential")
}

// releaseTests is a TestRunner over releases: the stream's definition's
// tests against the release's digest as the registry (or layout) holds it.
func releaseTests(svc *release.Service, opt testrun.Options, suite string) release.TestRunner {
	return func(ctx context.Context, stream string, r store.Release) (store.Result, error) {
		st, err := svc.Store.Stream(ctx, stream)
		if err != nil {
			return store.Result{}, err
		}
		def, err := spec.LoadDefinition(st.Definition)
		if err != nil {
			return store.Result{}, err
		}
		name, _, _ := release.SplitStream(stream)
		a, ok := svc.Tags.(release.Artifacts)
		if !ok {
			return store.Result{}, fmt.Errorf("%T cannot read images", svc.Tags)
		}
		idx, err := a.Index(ctx, name, r.Digest)
		if err != nil {
			return store.Result{}, fmt.Errorf("%s@%s: %w", stream, r.Digest, err)
		}
		return testIndex(ctx, def, idx, opt, suite), nil
	}
}

// eol is the date the configured Debian support (support: regular|lts)
// ends for the definition's release, from distro-info-data; "" when
// unknown (a warning says why).
func (p *publisher) eol(ctx context.Context, def *spec.Definition) string {
	if p.life == nil {
		p.life = map[string]lifecycle.Release{}
		csv, err := p.distroInfo(ctx, def.Debian.Release)
		if err == nil {
			p.life, err = lifecycle.ParseCSV(csv)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "temper: warning: no Debian lifecycle data (%v); end of life not recorded\n", err)
		}
	}
	row, ok := p.life[def.Debian.Release]
	if !ok {
		return ""
	}
	d := row.EOLLTS
	if p.conf.Support == "regular" || d.IsZero() {
		d = row.EOL
	}
	if d.IsZero() {
		return ""
	}
	return d.Format(time.DateOnly)
}

func (p *publisher) distroInfo(ctx context.Context, rel string) ([]byte, error) {
	if p.f.distroInfo != "" {
		return os.ReadFile(p.f.distroInfo)
	}
	csv, _, err := fetchDistroInfo(ctx, p.g, []string{rel})
	return csv, err
}
