// Package lock turns image definitions into locks: it finds the
// definitions, loads each Debian release once per architecture however many
// definitions use it, resolves every definition against it in parallel, and
// writes each lock atomically beside its definition. A definition that fails
// (invalid, unknown package, unsatisfiable dependency) gets no lock and its
// previous lock is left untouched.
package lock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/temper-dev/temper/internal/debian/archive"
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
	LockPath   string
	Changed    bool           // the lock file was written (its bytes changed)
	Packages   map[string]int // closure size per architecture
	Lock       *spec.Lock
	Err        error
}

// FindDefinitions expands files and directories into definition files:
// *.yaml and *.yml, except locks (*.lock.yaml) and the catalog
// configuration (temper.yaml). Directories are walked recursively.
func FindDefinitions(paths []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			add(p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if IsDefinitionFile(d.Name()) {
				add(path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// IsDefinitionFile says whether a file name looks like a definition.
func IsDefinitionFile(name string) bool {
	if !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml") {
		return false
	}
	return !strings.HasSuffix(name, ".lock.yaml") && name != "temper.yaml" && !strings.HasPrefix(name, ".")
}

type universeKey struct {
	release, components, arch string
}

type universeCall struct {
	once sync.Once
	u    *resolve.Universe
	err  error
}

// Run locks every definition found under paths. The returned error is
// non-nil only when nothing could be attempted; per-definition failures
// are in the outcomes.
func Run(ctx context.Context, paths []string, opt Options) ([]Outcome, error) {
	files, err := FindDefinitions(paths)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no definitions found in %s (definitions are *.yaml files other than *.lock.yaml and temper.yaml)", strings.Join(paths, ", "))
	}
	par := opt.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	outs := make([]Outcome, len(files))
	var mu sync.Mutex
	universes := map[universeKey]*universeCall{}
	universe := func(release string, comps []string, arch string) (*resolve.Universe, error) {
		k := universeKey{release, strings.Join(comps, ","), arch}
		mu.Lock()
		c, ok := universes[k]
		if !ok {
			c = &universeCall{}
			universes[k] = c
		}
		mu.Unlock()
		c.once.Do(func() {
			rel, err := opt.Client.LoadReleaseComponents(ctx, release, arch, comps)
			if err != nil {
				c.err = err
				return
			}
			c.u = resolve.NewUniverse(rel)
		})
		return c.u, c.err
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			outs[i] = lockOne(f, universe, opt)
		}()
	}
	wg.Wait()
	return outs, nil
}

func lockOne(file string, universe func(string, []string, string) (*resolve.Universe, error), opt Options) Outcome {
	out := Outcome{Definition: file, LockPath: spec.LockPath(file), Packages: map[string]int{}}
	def, err := spec.LoadDefinition(file)
	if err != nil {
		out.Err = err
		return out
	}
	l, err := Resolve(def, universe)
	if err != nil {
		out.Err = fmt.Errorf("%s: %w", file, err)
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
// lock. universe returns the indexed release for an architecture.
func Resolve(def *spec.Definition, universe func(release string, components []string, arch string) (*resolve.Universe, error)) (*spec.Lock, error) {
	req := resolve.Request{Recommends: def.Recommends, Providers: def.Providers, Exclude: def.Exclude, NoDependencies: def.NoDependencies}
	for _, p := range def.Packages {
		req.Roots = append(req.Roots, p.String())
	}
	l := &spec.Lock{Definition: def.LockDefinition(), Release: def.Debian.Release, Architectures: map[string]*spec.LockArch{}}
	var errs []error
	for _, arch := range def.Architectures {
		u, err := universe(def.Debian.Release, def.Debian.Components, arch)
		if err != nil {
			return nil, err // the archive itself failed: nothing else will work
		}
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
		la := &spec.LockArch{}
		for _, p := range res.Packages {
			la.Packages = append(la.Packages, spec.LockedPackage{
				Name: p.Name, Version: p.Version, Architecture: p.Architecture,
				Source: p.Source, SourceVersion: p.SourceVersion, Suite: p.Suite,
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
