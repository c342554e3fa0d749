// Package pipeline is what turns a definition into a release, shared by
// the command line (temper publish, snapshot, fast-track, vuln update)
// and the service (temper serve): build (reusing the stored build), the
// definition's tests, the scan gate, signing, and release.Service's
// Publish, with a failed step recorded and nothing pushed.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/debian/lifecycle"
	"github.com/temper-dev/temper/internal/evidence"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/testrun"
)

// Publisher publishes definitions: what every stream of one run shares.
type Publisher struct {
	Svc *release.Service
	// Build are the build options; Build.Output is the local image store
	// the build goes to (and is read back from), Build.Signer signs the
	// evidence after the tests and the gate passed.
	Build build.Options
	Test  testrun.Options
	Gate  *Gate
	// Support is temper.yaml's support: regular or lts.
	Support string
	// DistroInfo returns distro-info-data's debian.csv for a release;
	// nil or an error leaves the end of life unknown (Warn says why).
	DistroInfo func(ctx context.Context, release string) ([]byte, error)
	// Warn receives warnings; os.Stderr when nil.
	Warn io.Writer
	Now  func() time.Time
	// FailureLog, when set, is appended to a recorded failure's message
	// (the service keeps each job's log with its failure).
	FailureLog func() string

	lifeOnce sync.Once
	life     map[string]lifecycle.Release
}

// Outcome is what publishing one definition did.
type Outcome struct {
	File string
	// Variant names the variant ("" for the runtime).
	Variant string
	Stream  string
	// Already is the release of this build key published before.
	Already   *store.Release
	Published release.Published
	Candidate release.Candidate
	// Variants are the definition's variants' outcomes (the runtime's
	// outcome only): each is its own stream, NAME:VERSION-VARIANT.
	Variants []Outcome
}

func (p *Publisher) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

// target is one image of a definition being published.
type target struct {
	out  *Outcome
	def  *spec.Definition
	l    *spec.Lock
	st   store.Stream
	key  string
	done bool // released before: nothing to do
}

// One publishes one definition and its variants (docs/variants.md),
// each image unless its build key is released. The stream and its
// variants are published together: every image still to publish is built,
// tested and gated first, and when one fails (recorded as
// store.Failure on its stream; a refusal by the rules is a
// *release.Refusal) none is pushed, the others recording why. Then the
// runtime is published, then each variant, each into its own stream's
// first channel (`<version>-<variant>-testing`).
func (p *Publisher) One(ctx context.Context, file string) (Outcome, error) {
	out := Outcome{File: file}
	def, err := spec.LoadDefinition(file)
	if err != nil {
		return out, err
	}
	out.Variants = make([]Outcome, len(def.Variants))
	targets := make([]*target, 0, 1+len(def.Variants))
	for i, v := range append([]string{""}, def.VariantNames()...) {
		o := &out
		if v != "" {
			o = &out.Variants[i-1]
			*o = Outcome{File: file, Variant: v}
		}
		td, l, err := build.LoadTarget(file, v)
		if err != nil {
			return out, err
		}
		t := &target{out: o, def: td, l: l, key: build.BuildKey(td, l)}
		o.Stream = build.RefName(td)
		if rel, ok := Released(ctx, p.Svc.Store, o.Stream, t.key); ok {
			o.Already, t.done = &rel, true
		}
		t.st = store.Stream{Name: o.Stream, Definition: file, EOL: p.eol(ctx, td)}
		if old, err := p.Svc.Store.Stream(ctx, o.Stream); err == nil && t.st.EOL == "" {
			t.st.EOL = old.EOL // lifecycle data unavailable this run
		}
		targets = append(targets, t)
	}
	// Build, test and gate every image still to publish.
	for i, t := range targets {
		if t.done {
			continue
		}
		c, err := p.candidate(ctx, file, t.def, t.l, t.st, t.out.Variant)
		if err != nil {
			return out, p.abandon(ctx, targets, i, "build", err)
		}
		t.out.Candidate = c
	}
	for i, t := range targets {
		if t.done {
			continue
		}
		if c := t.out.Candidate; !c.Tests.Passed || !c.Gate.Passed {
			// Publish records the refusal on this stream and pushes nothing.
			_, err := p.Svc.Publish(ctx, c)
			if err == nil {
				err = fmt.Errorf("%s: not published", t.out.Stream)
			}
			p.others(ctx, targets, i, "refused", err)
			return out, err
		}
	}
	for i, t := range targets {
		if t.done || p.Build.Signer == nil {
			continue
		}
		var err error
		if t.out.Candidate.Evidence, err = p.sign(t.def, t.l, t.out.Candidate.Index); err != nil {
			return out, p.abandon(ctx, targets, i, "sign", err)
		}
	}
	for _, t := range targets {
		if t.done {
			continue
		}
		// A failure here leaves the images before it published: the next
		// run finds them released and publishes the rest.
		if t.out.Published, err = p.Svc.Publish(ctx, t.out.Candidate); err != nil {
			return out, err
		}
	}
	return out, nil
}

// abandon records step's failure on targets[i]'s stream, and on every
// other image still to publish that it was not published because of it.
func (p *Publisher) abandon(ctx context.Context, targets []*target, i int, step string, err error) error {
	t := targets[i]
	_ = p.Svc.Store.PutStream(ctx, t.st)
	msg := err.Error()
	if p.FailureLog != nil {
		if l := p.FailureLog(); l != "" {
			msg += "\n--- log ---\n" + l
		}
	}
	_ = p.Svc.Store.RecordFailure(ctx, store.Failure{Stream: t.out.Stream, BuildKey: t.key, Step: step, Message: msg, At: p.now()})
	err = fmt.Errorf("%s: %s: %w (recorded; nothing pushed)", t.out.Stream, step, err)
	p.others(ctx, targets, i, step, err)
	return err
}

// others records on every image still to publish but targets[i] that it
// waits for targets[i]: a stream and its variants are published together.
func (p *Publisher) others(ctx context.Context, targets []*target, i int, step string, err error) {
	for j, o := range targets {
		if j == i || o.done {
			continue
		}
		_ = p.Svc.Store.PutStream(ctx, o.st)
		_ = p.Svc.Store.RecordFailure(ctx, store.Failure{Stream: o.out.Stream, BuildKey: o.key, Step: "with " + targets[i].out.Stream,
			Message: fmt.Sprintf("not published: published only together with %s, which failed (%s): %v", targets[i].out.Stream, step, err), At: p.now()})
	}
}

// Released finds a published release of this build key.
func Released(ctx context.Context, s store.Store, stream, key string) (store.Release, bool) {
	rels, err := s.Releases(ctx, stream)
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
func (p *Publisher) candidate(ctx context.Context, file string, def *spec.Definition, l *spec.Lock, st store.Stream, variant string) (release.Candidate, error) {
	opt := p.Build
	opt.Signer = nil // signed after the tests and the gate, not before
	opt.Variant = variant
	res, err := build.Build(ctx, file, opt)
	if err != nil {
		return release.Candidate{}, err
	}
	built := p.now()
	idx, err := oci.ReadLayoutRef(p.Build.Output, res.Ref)
	if err != nil {
		return release.Candidate{}, err
	}
	text, err := l.Marshal()
	if err != nil {
		return release.Candidate{}, err
	}
	c := release.Candidate{Stream: st, Index: idx, Digest: res.IndexDigest, LockDigest: l.Digest(), BuildKey: res.BuildKey,
		Lock: string(text), ArchivePublished: ArchiveDate(l), Detected: Detected(def.LockPath(), built), Built: built}
	c.Tests = TestIndex(ctx, def, idx, p.Test, "essential")
	c.Scan, c.Gate = p.Gate.Evaluate(file, l, p.now())
	prev := Newest(ctx, p.Svc.Store, st.Name)
	var prevLock *spec.Lock
	if prev.Lock != "" {
		prevLock, _ = spec.ParseLock(prev.Tag+".lock", []byte(prev.Lock))
	}
	if prev.ID != 0 {
		c.Packages, c.CVEsFixed = LockDiff(prevLock, l), CVEsFixed(prev.Scan, c.Scan)
	}
	return c, nil
}

// Newest is a stream's newest published release (zero ID when none).
func Newest(ctx context.Context, s store.Store, stream string) store.Release {
	rels, _ := s.Releases(ctx, stream)
	for _, r := range rels {
		if r.State == store.Published {
			return r
		}
	}
	return store.Release{}
}

// ArchiveDate is when the archive published the lock's newest suite.
func ArchiveDate(l *spec.Lock) time.Time {
	var t time.Time
	for _, s := range l.Suites {
		if s.Date.After(t) {
			t = s.Date
		}
	}
	return t
}

// Detected is when temper saw the change: the lock's last write (`temper
// lock` rewrites it only when its content changes).
func Detected(lockPath string, fallback time.Time) time.Time {
	if fi, err := os.Stat(lockPath); err == nil {
		return fi.ModTime().UTC()
	}
	return fallback
}

// sign makes the build's signatures and attestations for the repository
// the release goes to.
func (p *Publisher) sign(def *spec.Definition, l *spec.Lock, idx v1.ImageIndex) (*attest.Bundle, error) {
	a, ok := p.Svc.Tags.(release.Artifacts)
	if !ok {
		return nil, fmt.Errorf("%T cannot hold signatures", p.Svc.Tags)
	}
	in := build.EvidenceInput(def, l, idx)
	in.Repo, in.Signer = a.Repository(def.Name), p.Build.Signer
	if p.Build.Fetcher != nil {
		in.Mirrors = p.Build.Fetcher.Mirrors
	}
	ev, err := evidence.Make(in)
	if err != nil {
		return nil, err
	}
	return ev.Bundle, nil
}

// TestIndex runs a definition's tests against this machine's image of
// exactly the index given, and records the outcome as a suite's result.
func TestIndex(ctx context.Context, def *spec.Definition, idx v1.ImageIndex, opt testrun.Options, suite string) store.Result {
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

// ReleaseTests is a TestRunner over releases: the stream's definition's
// tests against the release's digest as the registry (or layout) holds it.
func ReleaseTests(svc *release.Service, opt testrun.Options, suite string) release.TestRunner {
	return func(ctx context.Context, stream string, r store.Release) (store.Result, error) {
		st, err := svc.Store.Stream(ctx, stream)
		if err != nil {
			return store.Result{}, err
		}
		def, err := StreamDefinition(st)
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
		return TestIndex(ctx, def, idx, opt, suite), nil
	}
}

// StreamDefinition is the definition a stream's images are built and
// tested as: the stream's definition file, or the variant of it whose
// stream this is (NAME:VERSION-VARIANT).
func StreamDefinition(st store.Stream) (*spec.Definition, error) {
	def, err := spec.LoadDefinition(st.Definition)
	if err != nil {
		return nil, err
	}
	if build.RefName(def) == st.Name {
		return def, nil
	}
	for _, v := range def.VariantNames() {
		if vd, err := def.ForVariant(v); err == nil && build.RefName(vd) == st.Name {
			return vd, nil
		}
	}
	return nil, fmt.Errorf("stream %s: %s defines %s and its variants (%s), not this stream", st.Name, st.Definition, build.RefName(def), strings.Join(def.VariantNames(), ", "))
}

// eol is the date the configured Debian support (support: regular|lts)
// ends for the definition's release, from distro-info-data; "" when
// unknown (a warning says why).
func (p *Publisher) eol(ctx context.Context, def *spec.Definition) string {
	p.lifeOnce.Do(func() {
		p.life = map[string]lifecycle.Release{}
		err := errors.New("no source of lifecycle data")
		var csv []byte
		if p.DistroInfo != nil {
			csv, err = p.DistroInfo(ctx, def.Debian.Release)
		}
		if err == nil {
			p.life, err = lifecycle.ParseCSV(csv)
		}
		if err != nil {
			w := p.Warn
			if w == nil {
				w = os.Stderr
			}
			fmt.Fprintf(w, "temper: warning: no Debian lifecycle data (%v); end of life not recorded\n", err)
		}
	})
	row, ok := p.life[def.Debian.Release]
	if !ok {
		return ""
	}
	d := row.EOLLTS
	if p.Support == "regular" || d.IsZero() {
		d = row.EOL
	}
	if d.IsZero() {
		return ""
	}
	return d.Format(time.DateOnly)
}
