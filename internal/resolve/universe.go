// Package resolve computes the closure of an image's root packages the way
// apt does: from a release's candidate versions, over Pre-Depends and
// Depends (Recommends on request), choosing among alternatives and virtual
// packages as apt's MarkInstall does, and refusing what apt would refuse.
// Essential packages are not added implicitly: the closure is exactly what
// the roots need, distroless style.
//
// The algorithm follows apt's pkgDepCache::MarkInstall for a system with an
// empty dpkg status:
//
//  1. every root is marked first (apt-get marks command-line packages
//     before it installs any dependency), so a root satisfies alternatives
//     that name it;
//  2. roots' dependencies are then installed in command-line order, depth
//     first: a package's unsatisfied dependency groups are collected before
//     any is installed, then each group is re-checked (an earlier group's
//     subtree may have satisfied it) and, if still unsatisfied, its first
//     installable solution is marked and its own dependencies installed
//     before the next group;
//  3. a solution is installable when each of its own Pre-Depends/Depends
//     groups can be satisfied by a marked package or a candidate (apt's
//     IsInstallOkDependenciesSatisfiableByCandidates); otherwise the next
//     solution is tried;
//  4. the solutions of an alternative are the real package's candidate
//     (when its version satisfies) and then the packages whose candidates
//     Provide the name (versioned Provides for versioned dependencies).
//     Where apt would break a tie between several providers by internal
//     package IDs, temper refuses and asks the definition to name one.
package resolve

import (
	"sort"
	"strings"
	"sync"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/relation"
)

// Universe is one release for one architecture, indexed for resolving.
// It is safe for concurrent use; build it once per release and architecture
// and resolve many definitions against it.
type Universe struct {
	rel       *archive.Release
	providers map[string][]provision
	// cands are the candidates under a Policy (nil entries: no candidate,
	// every version pinned below 1); nil without a policy, when the
	// candidate is the release's highest version.
	cands map[string]*archive.Package
	prio  map[*archive.Package]int

	mu   sync.Mutex
	deps map[*archive.Package]*parsedDeps
}

// provision is one candidate's Provides entry.
type provision struct {
	pkg     *archive.Package
	version string // provided version; "" for an unversioned Provides
}

type parsedDeps struct {
	pre, dep, rec, conflicts, breaks relation.Relations
	err                              error
}

// NewUniverse indexes a loaded release: which candidates provide which
// virtual names.
func NewUniverse(rel *archive.Release) *Universe {
	u := &Universe{rel: rel, providers: map[string][]provision{}, deps: map[*archive.Package]*parsedDeps{}}
	u.indexProviders()
	return u
}

// NewPinnedUniverse indexes a release (usually Debian's with designated
// repositories merged in) whose candidates follow the policy's pins, as apt
// with that preferences file would choose them.
func NewPinnedUniverse(rel *archive.Release, p *Policy) (*Universe, error) {
	ms, err := compilePins(p)
	if err != nil {
		return nil, err
	}
	u := &Universe{rel: rel, providers: map[string][]provision{}, deps: map[*archive.Package]*parsedDeps{},
		cands: make(map[string]*archive.Package, rel.Len()), prio: map[*archive.Package]int{}}
	for _, name := range rel.Names() {
		vs := rel.Versions(name)
		c, prio := priorities(ms, vs)
		u.cands[name] = c
		for i, v := range vs {
			if prio[i] != DefaultPriority || v.Repository != "" {
				u.prio[v] = prio[i]
			}
		}
	}
	u.indexProviders()
	return u, nil
}

// Candidate is the version apt would install for name (nil for none).
func (u *Universe) Candidate(name string) *archive.Package {
	if u.cands != nil {
		return u.cands[name]
	}
	return u.rel.Candidate(name)
}

// Priority is the pin priority of one version in this universe.
func (u *Universe) Priority(p *archive.Package) int {
	if pr, ok := u.prio[p]; ok {
		return pr
	}
	return DefaultPriority
}

func (u *Universe) indexProviders() {
	rel := u.rel
	for _, name := range rel.Names() {
		c := u.Candidate(name)
		if c == nil || c.Provides == "" {
			continue
		}
		rels, err := relation.Parse(c.Provides)
		if err != nil {
			continue // a broken Provides provides nothing, as in apt
		}
		for _, r := range rels {
			for _, p := range r.Alternatives {
				if p.Name == c.Name {
					continue
				}
				u.providers[p.Name] = append(u.providers[p.Name], provision{pkg: c, version: p.Version})
			}
		}
	}
	for _, ps := range u.providers {
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].pkg.Name < ps[j].pkg.Name })
	}
}

// Release is the release the universe indexes.
func (u *Universe) Release() *archive.Release { return u.rel }

// Arch is the universe's architecture.
func (u *Universe) Arch() string { return u.rel.Arch }

func (u *Universe) parsed(p *archive.Package) *parsedDeps {
	u.mu.Lock()
	d, ok := u.deps[p]
	u.mu.Unlock()
	if ok {
		return d
	}
	d = &parsedDeps{}
	parse := func(field, text string) relation.Relations {
		if text == "" || d.err != nil {
			return nil
		}
		rs, err := relation.Parse(text)
		if err != nil {
			d.err = &FieldError{Package: p.Name, Version: p.Version, Field: field, Err: err}
			return nil
		}
		return rs
	}
	d.pre = parse("Pre-Depends", p.PreDepends)
	d.dep = parse("Depends", p.Depends)
	d.rec = parse("Recommends", p.Recommends)
	d.conflicts = parse("Conflicts", p.Conflicts)
	d.breaks = parse("Breaks", p.Breaks)
	u.mu.Lock()
	u.deps[p] = d
	u.mu.Unlock()
	return d
}

// FieldError is a relationship field in the archive that does not parse.
type FieldError struct {
	Package, Version, Field string
	Err                     error
}

func (e *FieldError) Error() string {
	return e.Package + " " + e.Version + ": " + e.Field + ": " + e.Err.Error()
}

// ProvidersOf lists the candidates that provide name, sorted by name.
func (u *Universe) ProvidersOf(name string) []string {
	var out []string
	for _, p := range u.providers[name] {
		out = append(out, p.pkg.Name)
	}
	return out
}

func joinNames(ps []*archive.Package) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}
