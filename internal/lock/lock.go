// Package lock turns image definitions into locks: it finds the
// definitions, loads each Debian release once per architecture however many
// definitions use it (resolve.LoadOnce), resolves every definition against
// it in parallel, and writes each lock atomically beside its definition. A
// definition that fails (invalid, unknown package, unsatisfiable
// dependency) gets no lock and its previous lock is left untouched.
//
// Resolve is the one way a definition becomes a lock: temper check uses it
// too, so that a planned update is exactly what temper lock would write.
package lock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/limits"
	"github.com/temper-dev/temper/internal/resolve"
	"github.com/temper-dev/temper/internal/spec"
)

// Options configure a run.
type Options struct {
	Client *archive.Client
	// Parallel bounds concurrent resolutions; GOMAXPROCS when 0.
	Parallel int
	// DryRun resolves but writes nothing.
	DryRun bool
}

// Outcome is what happened to one definition.
type Outcome struct {
	Definition string // path of the definition
	Variant    string // the variant's name; "" for the definition's own image
	LockPath   string
	Changed    bool           // the lock file was written (its bytes changed)
	Packages   map[string]int // closure size per architecture
	Lock       *spec.Lock
	Err        error
}

// Run locks every definition found under paths. The returned error is
// non-nil only when nothing could be attempted; per-definition failures
// are in the outcomes.
func Run(ctx context.Context, paths []string, opt Options) ([]Outcome, error) {
	files, err := spec.RequireDefinitions(paths)
	if err != nil {
		return nil, err
	}
	par := opt.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	releases := resolve.LoadOnce(opt.Client)
	outs := make([][]Outcome, len(files))
	// Every definition is attempted: a failure is its outcome, not the
	// group's error, so it stops no other.
	var g errgroup.Group
	g.SetLimit(par)
	for i, f := range files {
		g.Go(func() error {
			outs[i] = lockStream(ctx, f, releases, opt)
			return nil
		})
	}
	_ = g.Wait() // never an error: see above
	return slices.Concat(outs...), nil
}

func lockOne(ctx context.Context, file string, releases resolve.Releases, opt Options) Outcome {
	out := Outcome{Definition: file, LockPath: spec.LockPath(file), Packages: map[string]int{}}
	def, err := spec.LoadDefinition(file)
	if err != nil {
		out.Err = err
		return out
	}
	l, err := Resolve(ctx, def, releases)
	if err != nil {
		out.Err = located(file, err)
		return out
	}
	for arch, a := range l.Architectures {
		out.Packages[arch] = len(a.Packages)
	}
	out.Lock = l
	if opt.DryRun {
		return out
	}
	// When re-resolving gives exactly the packages the existing lock pins,
	// the lock stays as it is, suites and all: a suite re-signed with a new
	// Date (security suites are, every few days) must not churn locks, and
	// so image digests, when nothing an image contains has changed.
	data, err := l.Marshal()
	if err != nil {
		out.Err = fmt.Errorf("%s: %w", file, err)
		return out
	}
	if old, err := os.ReadFile(out.LockPath); err == nil && sameButSuites(old, data) {
		return out
	}
	out.Changed, out.Err = spec.WriteFileAtomic(out.LockPath, data, 0o644)
	return out
}

// oversized refuses packages whose index Size the per-.deb limit does not
// allow (a lying or hostile index): a lock pinning one could never be
// built, so none is written.
func oversized(pkgs []*archive.Package) error {
	lim := limits.Get().Deb
	var errs []error
	for _, p := range pkgs {
		if p.Size > lim {
			errs = append(errs, &limits.Error{What: fmt.Sprintf("package %s %s (%s) in %s", p.Name, p.Version, p.Architecture, p.Suite), Where: p.Filename,
				Limit: fmt.Sprintf("the per-.deb limit of %s (TEMPER_LIMIT_DEB): the index says %d bytes", limits.Human(lim), p.Size)})
		}
	}
	return errors.Join(errs...)
}

// sameButSuites reports whether two canonical lock files differ at most in
// their suites lines. Locks are written canonically (spec.Lock.Marshal), so
// equal text outside the suites block means the same definition, release
// and packages; comparing text spares parsing hundreds of old locks.
func sameButSuites(old, new []byte) bool {
	strip := func(b []byte) []byte {
		var out []byte
		for _, line := range bytes.SplitAfter(b, []byte("\n")) {
			if !bytes.HasPrefix(line, []byte("  - {name: ")) {
				out = append(out, line...)
			}
		}
		return out
	}
	return bytes.Equal(strip(old), strip(new))
}

// Resolve resolves one definition for each of its architectures into a
// lock, against the releases it is given. It writes nothing.
func Resolve(ctx context.Context, def *spec.Definition, releases resolve.Releases) (*spec.Lock, error) {
	return resolveDefinition(ctx, def, releases, func(string) map[string]string { return nil })
}

// resolveDefinition is Resolve with pinned versions per architecture (a
// variant's: variant.go).
func resolveDefinition(ctx context.Context, def *spec.Definition, releases resolve.Releases, pins func(arch string) map[string]string) (*spec.Lock, error) {
	req := resolve.Request{Recommends: def.Recommends, Providers: def.Providers, Exclude: def.Exclude, NoDependencies: def.NoDependencies}
	for _, p := range def.Packages {
		req.Roots = append(req.Roots, p.String())
	}
	l := &spec.Lock{Definition: def.LockDefinition(), Release: def.Debian.Release, Files: def.LockFiles(), LocalDebs: def.LockLocalDebs(), Architectures: map[string]*spec.LockArch{}}
	repos, err := LoadRepositories(def)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, arch := range def.Architectures {
		u, err := releases.Universe(ctx, def.Debian.Release, def.Debian.Components, arch)
		if err != nil {
			// The archive itself failed: nothing else will work.
			return nil, &ReleaseError{Release: def.Debian.Release, Err: err}
		}
		local, err := localIndex(def, arch)
		if err != nil {
			return nil, err
		}
		if repos != nil {
			var idx []*archive.RepoIndex
			if u, idx, err = repos.universe(ctx, u, releases, local); err != nil {
				errs = append(errs, err)
				continue
			}
			if l.Repositories == nil {
				l.Repositories = lockRepositories(idx)
			}
		} else if local != nil {
			if u, err = resolve.WithRepositories(u, []*archive.RepoIndex{local}, &resolve.Policy{}); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if err := unknownRoots(u, def); err != nil {
			errs = append(errs, err)
			continue
		}
		req.Pins = pins(arch)
		res, err := u.Resolve(req)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if l.Suites == nil {
			for _, s := range u.Release().Suites {
				l.Suites = append(l.Suites, spec.LockSuite{Name: s.Ref.Name, InReleaseSHA256: s.InReleaseSHA256, Date: s.Release.Date})
			}
		}
		if err := oversized(res.Packages); err != nil {
			errs = append(errs, err)
			continue
		}
		la := &spec.LockArch{}
		for _, p := range res.Packages {
			la.Packages = append(la.Packages, spec.LockedPackage{
				Name: p.Name, Version: p.Version, Architecture: p.Architecture,
				Source: p.Source, SourceVersion: p.SourceVersion, Suite: p.Suite, Repository: p.Repository,
				Filename: p.Filename, SHA256: strings.ToLower(p.SHA256), Size: p.Size, InstalledSize: p.InstalledSize,
				RequiredBy: res.RequiredBy[p.Name],
			})
		}
		l.Architectures[arch] = la
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return l, nil
}
