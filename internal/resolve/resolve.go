package resolve

import (
	"fmt"
	"sort"
	"strings"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/relation"
)

// Request is what a definition asks for.
type Request struct {
	// Roots are package names, optionally pinned as name=version.
	Roots []string
	// Recommends installs Recommends too (apt's default; off for images).
	Recommends bool
	// Providers names the provider to use for a virtual package that
	// several packages provide.
	Providers map[string]string
	// Exclude lists packages that must never be chosen: they are treated
	// as absent from the archive, so alternatives move past them.
	Exclude []string
	// NoDependencies lists roots whose own dependencies are not followed
	// (data-only use of a package, as distroless does for its static image).
	NoDependencies []string
	// Pins fix the version of packages without making them roots: when
	// the closure needs one of them, it gets this version, as if it were
	// the only one in the archive (a variant resolved against its
	// runtime's lock: docs/variants.md). A pin naming a version the
	// release does not have is an error.
	Pins map[string]string
}

// RootReason is the RequiredBy entry of a package the definition lists.
const RootReason = "definition"

// Result is a resolved closure.
type Result struct {
	// Packages is the closure, sorted by name.
	Packages []*archive.Package
	// RequiredBy maps each package name to the sorted names of the closure
	// packages whose dependencies it satisfies; roots include RootReason.
	RequiredBy map[string][]string
}

// node is a package marked for installation.
type node struct {
	pkg    *archive.Package
	parent *node  // the package whose dependency brought it in (nil for roots)
	via    string // that dependency, as written
}

func (n *node) chain() string {
	var parts []string
	for m := n; m != nil; m = m.parent {
		parts = append(parts, m.pkg.Name)
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, " → ")
}

type state struct {
	u       *Universe
	req     Request
	cand    map[string]*archive.Package // candidate overrides from name=version roots
	exclude map[string]bool
	marked  map[string]*node
	order   []*node
}

// Resolve computes the closure of req's roots in u.
func (u *Universe) Resolve(req Request) (*Result, error) {
	s := &state{u: u, req: req, cand: map[string]*archive.Package{}, exclude: map[string]bool{}, marked: map[string]*node{}}
	for _, x := range req.Exclude {
		s.exclude[x] = true
	}
	if err := s.pin(req.Pins); err != nil {
		return nil, err
	}
	var roots []*node
	for _, r := range req.Roots {
		name, pin, pinned := strings.Cut(r, "=")
		pkg, err := s.rootPackage(name, pin, pinned)
		if err != nil {
			return nil, err
		}
		if n, ok := s.marked[pkg.Name]; ok {
			roots = append(roots, n)
			continue
		}
		n := &node{pkg: pkg}
		s.mark(n)
		roots = append(roots, n)
	}
	nodeps := map[string]bool{}
	for _, name := range req.NoDependencies {
		nodeps[name] = true
	}
	for _, n := range roots {
		if nodeps[n.pkg.Name] {
			continue
		}
		if err := s.installDeps(n); err != nil {
			return nil, err
		}
	}
	if err := s.checkConflicts(); err != nil {
		return nil, err
	}
	return s.result(roots), nil
}

func (s *state) rootPackage(name, pin string, pinned bool) (*archive.Package, error) {
	rel := s.u.rel
	if s.exclude[name] {
		return nil, fmt.Errorf("%s (%s): %s is both a root package and excluded", rel.Name, rel.Arch, name)
	}
	vs := rel.Versions(name)
	if len(vs) == 0 {
		provs := s.providerChoices(name, relation.Possibility{Name: name})
		switch {
		case len(provs) == 1:
			return provs[0], nil // apt-get: "Note, selecting X instead of virtual Y"
		case len(provs) > 1:
			if chosen, ok := s.req.Providers[name]; ok {
				for _, p := range provs {
					if p.Name == chosen {
						return p, nil
					}
				}
				return nil, fmt.Errorf("%s (%s): providers: %s = %s, but %s does not provide %s (providers: %s)", rel.Name, rel.Arch, name, chosen, chosen, name, joinNames(provs))
			}
			return nil, &VirtualError{Name: name, Release: rel.Name, Arch: rel.Arch, Providers: namesOf(provs)}
		}
		_, err := rel.Lookup(name)
		return nil, err
	}
	if !pinned {
		if c, ok := s.cand[name]; ok {
			return c, nil
		}
		if c := s.u.Candidate(name); c != nil {
			return c, nil
		}
		return nil, fmt.Errorf("%s (%s): %s has no installation candidate: every version is pinned below 1 (%s)", rel.Name, rel.Arch, name, s.u.describeVersions(vs))
	}
	for _, v := range vs {
		if v.Version == pin {
			s.cand[name] = v
			return v, nil
		}
	}
	return nil, fmt.Errorf("%s (%s): %s=%s: no such version (the release has %s)", rel.Name, rel.Arch, name, pin, s.u.describeVersions(vs))
}

// pin makes each pinned version the candidate of its package.
func (s *state) pin(pins map[string]string) error {
	rel := s.u.rel
	for _, name := range sortedNames(pins) {
		found := false
		for _, v := range rel.Versions(name) {
			if v.Version == pins[name] {
				s.cand[name], found = v, true
				break
			}
		}
		if !found {
			return fmt.Errorf("%s (%s): %s is pinned to %s, which the release does not have (%s)", rel.Name, rel.Arch, name, pins[name], s.u.describeVersions(rel.Versions(name)))
		}
	}
	return nil
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// VirtualError is a virtual package with several providers and no choice.
type VirtualError struct {
	Name, Release, Arch string
	Providers           []string
	Chain               string // the dependency chain that needs it ("" for a root)
}

func (e *VirtualError) Error() string {
	where := "listed in the definition"
	if e.Chain != "" {
		where = "needed by " + e.Chain
	}
	return fmt.Sprintf("%s (%s): %s (%s) is a virtual package provided by %s; choose one in the definition, e.g.\n  providers:\n    %s: %s",
		e.Release, e.Arch, e.Name, where, strings.Join(e.Providers, ", "), e.Name, e.Providers[0])
}

func namesOf(ps []*archive.Package) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

func (s *state) mark(n *node) {
	s.marked[n.pkg.Name] = n
	s.order = append(s.order, n)
}

// candidate returns the version apt would install for name, or nil.
func (s *state) candidate(name string) *archive.Package {
	if s.exclude[name] {
		return nil
	}
	if c, ok := s.cand[name]; ok {
		return c
	}
	return s.u.Candidate(name)
}

// archOK reports whether a package satisfies an architecture qualifier.
// Images are single-architecture, so every candidate is native or "all";
// ":any" additionally needs Multi-Arch: allowed, as in dpkg and apt.
func archOK(p relation.Possibility, pkg *archive.Package) bool {
	if p.ArchQual == "any" {
		return pkg.MultiArch == "allowed"
	}
	return true
}

// satisfiedByMarked reports whether a marked package (real or providing)
// satisfies the possibility, and which.
func (s *state) satisfiedByMarked(p relation.Possibility) *node {
	if n, ok := s.marked[p.Name]; ok && p.SatisfiedBy(n.pkg.Version) && archOK(p, n.pkg) {
		return n
	}
	for _, pv := range s.u.providers[p.Name] {
		n, ok := s.marked[pv.pkg.Name]
		if !ok || n.pkg != pv.pkg {
			continue
		}
		if providesSatisfies(p, pv) && (p.ArchQual != "any" || pv.pkg.MultiArch == "allowed") {
			return n
		}
	}
	return nil
}

func providesSatisfies(p relation.Possibility, pv provision) bool {
	if p.Op == relation.None {
		return true
	}
	return pv.version != "" && p.SatisfiedBy(pv.version)
}

// providerChoices lists candidates that provide p (not the real package).
func (s *state) providerChoices(name string, p relation.Possibility) []*archive.Package {
	var out []*archive.Package
	for _, pv := range s.u.providers[name] {
		if s.exclude[pv.pkg.Name] || s.candidate(pv.pkg.Name) != pv.pkg {
			continue
		}
		if providesSatisfies(p, pv) && (p.ArchQual != "any" || pv.pkg.MultiArch == "allowed") {
			out = append(out, pv.pkg)
		}
	}
	return out
}

// satisfiable reports whether a group can be satisfied by a marked package
// or by some candidate.
func (s *state) satisfiable(g relation.Relation) bool {
	for _, p := range g.Alternatives {
		if !p.AppliesToArch(s.u.rel.Arch) {
			continue
		}
		if s.satisfiedByMarked(p) != nil {
			return true
		}
		if c := s.candidate(p.Name); c != nil && p.SatisfiedBy(c.Version) && archOK(p, c) {
			return true
		}
		if len(s.providerChoices(p.Name, p)) > 0 {
			return true
		}
	}
	return false
}

func (s *state) groups(pkg *archive.Package) ([]relation.Relation, error) {
	d := s.u.parsed(pkg)
	if d.err != nil {
		return nil, d.err
	}
	gs := make([]relation.Relation, 0, len(d.pre)+len(d.dep)+len(d.rec))
	gs = append(gs, d.pre...)
	gs = append(gs, d.dep...)
	if s.req.Recommends {
		gs = append(gs, d.rec...)
	}
	return gs, nil
}

// applicable drops alternatives restricted to other architectures; a group
// left empty does not apply at all.
func (s *state) applicable(g relation.Relation) relation.Relation {
	out := relation.Relation{Alternatives: make([]relation.Possibility, 0, len(g.Alternatives))}
	for _, p := range g.Alternatives {
		if p.AppliesToArch(s.u.rel.Arch) {
			out.Alternatives = append(out.Alternatives, p)
		}
	}
	return out
}

// installOK is apt's IsInstallOkDependenciesSatisfiableByCandidates.
func (s *state) installOK(pkg *archive.Package) bool {
	gs, err := s.groups(pkg)
	if err != nil {
		return false
	}
	for _, g := range gs {
		g = s.applicable(g)
		if len(g.Alternatives) > 0 && !s.satisfiable(g) {
			return false
		}
	}
	return true
}

func (s *state) installDeps(n *node) error {
	all, err := s.groups(n.pkg)
	if err != nil {
		return err
	}
	// Collect first: a group satisfied now is never revisited.
	var todo []relation.Relation
	for _, g := range all {
		g = s.applicable(g)
		if len(g.Alternatives) == 0 || s.groupSatisfied(g) {
			continue
		}
		todo = append(todo, g)
	}
	for _, g := range todo {
		if s.groupSatisfied(g) {
			continue // an earlier group's subtree satisfied it
		}
		chosen, err := s.choose(n, g)
		if err != nil {
			return err
		}
		if chosen == nil {
			continue
		}
		c := &node{pkg: chosen, parent: n, via: g.String()}
		s.mark(c)
		if err := s.installDeps(c); err != nil {
			return err
		}
	}
	return nil
}

func (s *state) groupSatisfied(g relation.Relation) bool {
	for _, p := range g.Alternatives {
		if s.satisfiedByMarked(p) != nil {
			return true
		}
	}
	return false
}

// choose picks the package that satisfies g, in apt's order.
func (s *state) choose(n *node, g relation.Relation) (*archive.Package, error) {
	rel := s.u.rel
	for _, p := range g.Alternatives {
		if c := s.candidate(p.Name); c != nil && p.SatisfiedBy(c.Version) && archOK(p, c) {
			if s.installOK(c) {
				return c, nil
			}
		}
		provs := s.providerChoices(p.Name, p)
		if len(provs) > 1 {
			chosen, ok := s.req.Providers[p.Name]
			if !ok {
				return nil, &VirtualError{Name: p.Name, Release: rel.Name, Arch: rel.Arch, Providers: namesOf(provs), Chain: n.chain()}
			}
			var pick *archive.Package
			for _, pr := range provs {
				if pr.Name == chosen {
					pick = pr
				}
			}
			if pick == nil {
				return nil, fmt.Errorf("%s (%s): providers: %s = %s, but %s does not provide %s here (providers: %s)", rel.Name, rel.Arch, p.Name, chosen, chosen, p, joinNames(provs))
			}
			provs = []*archive.Package{pick}
		}
		for _, pr := range provs {
			if s.installOK(pr) {
				return pr, nil
			}
		}
	}
	return nil, s.unsatisfiable(n, g)
}

func (s *state) result(roots []*node) *Result {
	r := &Result{RequiredBy: map[string][]string{}}
	why := map[string]map[string]bool{}
	add := func(pkg, by string) {
		if why[pkg] == nil {
			why[pkg] = map[string]bool{}
		}
		why[pkg][by] = true
	}
	for _, n := range roots {
		add(n.pkg.Name, RootReason)
	}
	for _, n := range s.order {
		r.Packages = append(r.Packages, n.pkg)
		gs, _ := s.groups(n.pkg)
		for _, g := range gs {
			g = s.applicable(g)
			for _, p := range g.Alternatives {
				if m := s.satisfiedByMarked(p); m != nil {
					if m.pkg.Name != n.pkg.Name {
						add(m.pkg.Name, n.pkg.Name)
					}
					break
				}
			}
		}
	}
	sort.Slice(r.Packages, func(i, j int) bool { return r.Packages[i].Name < r.Packages[j].Name })
	for pkg, set := range why {
		list := make([]string, 0, len(set))
		for by := range set {
			list = append(list, by)
		}
		sort.Strings(list)
		r.RequiredBy[pkg] = list
	}
	return r
}
