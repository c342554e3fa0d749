package resolve

import (
	"fmt"
	"strings"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/relation"
)

// UnsatisfiableError is a dependency nothing in the release satisfies.
type UnsatisfiableError struct {
	Release, Arch string
	Chain         string // root → ... → the package with the dependency
	Dependency    string
	Why           []string
	// Pinned names the packages of Why that Request.Pins held at a
	// version that does not satisfy the dependency.
	Pinned []string
}

func (e *UnsatisfiableError) Error() string {
	return fmt.Sprintf("%s (%s): %s depends on %s, which cannot be satisfied: %s", e.Release, e.Arch, e.Chain, e.Dependency, strings.Join(e.Why, "; "))
}

func (s *state) unsatisfiable(n *node, g relation.Relation) error {
	return s.explain(n.chain(), g, 0)
}

// explain says why nothing satisfies g. When the only way to satisfy it is
// a package whose own dependencies fail, it follows that package down, so
// the error names the dependency that really fails and the whole chain.
func (s *state) explain(chain string, g relation.Relation, depth int) *UnsatisfiableError {
	e := &UnsatisfiableError{Release: s.u.rel.Name, Arch: s.u.rel.Arch, Chain: chain, Dependency: g.String()}
	for _, p := range g.Alternatives {
		c := s.candidate(p.Name)
		switch {
		case s.exclude[p.Name]:
			e.Why = append(e.Why, p.Name+" is excluded by the definition")
		case c == nil && len(s.u.providers[p.Name]) == 0:
			e.Why = append(e.Why, p.Name+" is not in "+s.u.rel.Name+" for "+s.u.rel.Arch)
		case c != nil && !p.SatisfiedBy(c.Version) && s.req.Pins[p.Name] == c.Version:
			e.Why = append(e.Why, fmt.Sprintf("%s is pinned to %s (%s)", p.Name, c.Version, where(c)))
			e.Pinned = append(e.Pinned, p.Name)
		case c != nil && !p.SatisfiedBy(c.Version):
			e.Why = append(e.Why, fmt.Sprintf("%s's candidate is %s (%s)", p.Name, c.Version, where(c)))
		case c != nil && !archOK(p, c):
			e.Why = append(e.Why, fmt.Sprintf("%s is Multi-Arch: %q, so it cannot satisfy %s", p.Name, c.MultiArch, p))
		case c != nil:
			if inner := s.failingGroup(c); inner != nil && depth < 20 {
				sub := s.explain(chain+" → "+c.Name, *inner, depth+1)
				if len(g.Alternatives) == 1 {
					return sub
				}
				e.Pinned = append(e.Pinned, sub.Pinned...)
				e.Why = append(e.Why, sub.Error())
				continue
			}
			e.Why = append(e.Why, p.Name+" "+c.Version+" has dependencies that cannot be satisfied")
		default:
			e.Why = append(e.Why, "no provider of "+p.String()+" is installable")
		}
	}
	return e
}

// failingGroup returns the first dependency group of pkg that nothing can
// satisfy.
func (s *state) failingGroup(pkg *archive.Package) *relation.Relation {
	gs, err := s.groups(pkg)
	if err != nil {
		return nil
	}
	for _, g := range gs {
		g = s.applicable(g)
		if len(g.Alternatives) > 0 && !s.satisfiable(g) {
			return &g
		}
	}
	return nil
}
