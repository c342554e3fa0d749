package archive

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/temper-dev/temper/internal/debian/index"
	"github.com/temper-dev/temper/internal/debian/relation"
	"github.com/temper-dev/temper/internal/debian/version"
)

// Package is one package version as one suite of the release offers it.
type Package struct {
	*index.Package
	// Suite is the suite that offers this version, e.g. bookworm-security.
	Suite string
	// Base is the archive base URL the suite lives in.
	Base string
	// Component is the archive component whose index lists it (main, ...).
	Component string
	// Repository is the designated repository it comes from; "" for
	// Debian's own suites.
	Repository string
	// From is the suite's verified metadata: the Release fields that apt
	// preferences match (o=, a=, n=, l=, v=) and where it was fetched.
	From *Suite
}

// URL is where the .deb can be downloaded.
func (p *Package) URL() string { return p.Base + "/" + p.Filename }

// Release is one Debian release for one architecture: the packages of its
// suites (release, -updates, -security) merged, as apt sees them.
type Release struct {
	Name   string
	Arch   string
	Suites []*Suite
	// Sources says where each index came from.
	Sources []IndexSource
	// Repositories are the designated repositories merged in
	// (WithRepositories), in the order given.
	Repositories []*RepoIndex

	byName map[string][]*Package // every version, highest first

	namesOnce sync.Once
	names     []string
}

// LoadRelease fetches and verifies the release's suites and loads their
// Packages indices for one architecture ("all" packages are part of every
// binary-<arch> index). Suites and indices load concurrently.
func (c *Client) LoadRelease(ctx context.Context, name, arch string) (*Release, error) {
	return c.LoadReleaseComponents(ctx, name, arch, c.cfg.Components)
}

// LoadReleaseComponents is LoadRelease for the given archive components
// (main, contrib, ...) instead of the client's.
func (c *Client) LoadReleaseComponents(ctx context.Context, name, arch string, components []string) (*Release, error) {
	if len(components) == 0 {
		components = c.cfg.Components
	}
	refs, err := SuitesOf(name, c.cfg.Mirrors)
	if err != nil {
		return nil, err
	}
	type job struct {
		suite int
		comp  string
	}
	suites := make([]*Suite, len(refs))
	results := make([][]index.Package, len(refs)*len(components))
	srcs := make([]IndexSource, len(results))
	errs := make([]error, len(results))
	var wg sync.WaitGroup
	for i, ref := range refs {
		for j, comp := range components {
			k := i*len(components) + j
			wg.Go(func() {
				s, err := c.Suite(ctx, ref)
				if err != nil {
					errs[k] = err
					return
				}
				suites[i] = s
				if !slices.Contains(s.Release.Architectures, arch) && len(s.Release.Architectures) > 0 {
					errs[k] = fmt.Errorf("%s: suite %s does not publish architecture %q (it has: %s)", ref.InReleaseURL(), ref.Name, arch, strings.Join(s.Release.Architectures, " "))
					return
				}
				results[k], srcs[k], errs[k] = c.Index(ctx, s, comp, arch)
			})
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	r := &Release{Name: name, Arch: arch, Suites: suites, Sources: srcs, byName: make(map[string][]*Package, 70000)}
	total := 0
	for _, pkgs := range results {
		total += len(pkgs)
	}
	all := make([]Package, 0, total)
	for k, pkgs := range results {
		s := suites[k/len(components)]
		comp := components[k%len(components)]
		for i := range pkgs {
			all = append(all, Package{Package: &pkgs[i], Suite: s.Ref.Name, Base: s.Ref.Base, Component: comp, From: s})
		}
	}
	for i := range all {
		p := &all[i]
		r.byName[p.Name] = append(r.byName[p.Name], p)
	}
	for _, vs := range r.byName {
		if len(vs) > 1 {
			// Highest version first; for equal versions keep suite order
			// (release, -updates, -security), as the indices were appended.
			sort.SliceStable(vs, func(i, j int) bool {
				return version.CompareStrings(vs[i].Version, vs[j].Version) > 0
			})
		}
	}
	return r, nil
}

// Versions returns every version of a package the release offers, highest
// first; nil when the release has no package of that name.
func (r *Release) Versions(name string) []*Package { return r.byName[name] }

// Candidate is the version apt would install with default pins: the highest
// version across the release's suites. nil when there is none.
func (r *Release) Candidate(name string) *Package {
	if vs := r.byName[name]; len(vs) > 0 {
		return vs[0]
	}
	return nil
}

// Names returns every package name in the release, sorted. The list is
// built on first use: most callers only look names up.
func (r *Release) Names() []string {
	r.namesOnce.Do(func() {
		r.names = make([]string, 0, len(r.byName))
		for n := range r.byName {
			r.names = append(r.names, n)
		}
		sort.Strings(r.names)
	})
	return r.names
}

// Len is the number of distinct package names.
func (r *Release) Len() int { return len(r.byName) }

// Suggest returns up to n package names close to name, for "did you mean"
// errors: names containing it, then names within a small edit distance.
func (r *Release) Suggest(name string, n int) []string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	for _, other := range r.Names() {
		d := -1
		switch {
		case strings.HasPrefix(other, name) || strings.HasPrefix(name, other):
			d = abs(len(other)-len(name)) / 2
		case strings.Contains(other, name):
			d = 1 + abs(len(other)-len(name))/2
		default:
			if abs(len(other)-len(name)) <= 3 {
				if e := editDistance(name, other, 3); e <= 3 {
					d = e
				}
			}
		}
		if d >= 0 {
			cs = append(cs, cand{other, d})
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].name < cs[j].name
	})
	out := make([]string, 0, n)
	for _, c := range cs {
		if len(out) == n {
			break
		}
		out = append(out, c.name)
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// editDistance is Levenshtein distance, giving up (returning max+1) once the
// distance must exceed max.
func editDistance(a, b string, max int) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > max {
			return max + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// NotFoundError is returned for a package the release does not have.
type NotFoundError struct {
	Name, Release, Arch string
	// ProvidedBy lists the real packages that provide Name when it is a
	// virtual package.
	ProvidedBy  []string
	Suggestions []string
}

func (e *NotFoundError) Error() string {
	if len(e.ProvidedBy) > 0 {
		return fmt.Sprintf("%q is a virtual package in %s (%s), provided by: %s; name one of them", e.Name, e.Release, e.Arch, strings.Join(e.ProvidedBy, ", "))
	}
	msg := fmt.Sprintf("package %q not found in %s (%s)", e.Name, e.Release, e.Arch)
	if len(e.Suggestions) > 0 {
		msg += "; did you mean: " + strings.Join(e.Suggestions, ", ") + "?"
	}
	return msg
}

// Lookup returns every version of name or a NotFoundError that names the
// providers of a virtual package, or else close names.
func (r *Release) Lookup(name string) ([]*Package, error) {
	if vs := r.byName[name]; len(vs) > 0 {
		return vs, nil
	}
	e := &NotFoundError{Name: name, Release: r.Name, Arch: r.Arch, ProvidedBy: r.Providers(name)}
	if len(e.ProvidedBy) == 0 {
		e.Suggestions = r.Suggest(name, 5)
	}
	return nil, e
}

// Providers returns the names of the packages whose candidate Provides
// name, sorted. It scans the release, so it is for error paths and tools,
// not for resolvers.
func (r *Release) Providers(name string) []string {
	var out []string
	for pkg, vs := range r.byName {
		prov := vs[0].Provides
		if prov == "" || !strings.Contains(prov, name) {
			continue
		}
		rels, err := relation.Parse(prov)
		if err != nil {
			continue
		}
		for _, rel := range rels {
			if len(rel.Alternatives) > 0 && rel.Alternatives[0].Name == name {
				out = append(out, pkg)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// Status is what a refresh learned about a release without loading it.
type Status struct {
	Suites []*Suite
	// Missing lists the indices (suite and path) that are not in the cache
	// and would be downloaded by LoadRelease.
	Missing []string
}

// Status fetches and verifies the release's InRelease files (one request
// per suite) and reports which of the indices for archs are not cached
// yet. When every InRelease is unchanged since the last run, Missing is
// empty and nothing else was read: the cheap path of a periodic check.
func (c *Client) Status(ctx context.Context, name string, archs []string) (*Status, error) {
	refs, err := SuitesOf(name, c.cfg.Mirrors)
	if err != nil {
		return nil, err
	}
	st := &Status{Suites: make([]*Suite, len(refs))}
	errs := make([]error, len(refs))
	var wg sync.WaitGroup
	for i, ref := range refs {
		wg.Go(func() { st.Suites[i], errs[i] = c.Suite(ctx, ref) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for _, s := range st.Suites {
		for _, comp := range c.cfg.Components {
			for _, arch := range archs {
				path := comp + "/binary-" + arch + "/Packages"
				fh, ok := s.Release.Lookup(path)
				if !ok || !c.cfg.Cache.Has(fh.SHA256) {
					st.Missing = append(st.Missing, s.Ref.Name+" "+path)
				}
			}
		}
	}
	return st, nil
}
