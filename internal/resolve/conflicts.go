package resolve

import (
	"fmt"
	"strings"

	"github.com/temper-dev/temper/internal/debian/relation"
)

// ConflictError is a Conflicts or Breaks between two closure packages.
type ConflictError struct {
	Release, Arch  string
	Kind           string // "Conflicts" or "Breaks"
	Chain, Against string
	Relation       string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s (%s): %s %s %s, but both are in the image:\n  %s\n  %s",
		e.Release, e.Arch, first(e.Chain), e.Kind, e.Relation, e.Chain, e.Against)
}

func first(chain string) string {
	parts := strings.Split(chain, " → ")
	return parts[len(parts)-1]
}

func (s *state) checkConflicts() error {
	for _, n := range s.order {
		d := s.u.parsed(n.pkg)
		for _, k := range []struct {
			kind string
			rs   relation.Relations
		}{{"Conflicts", d.conflicts}, {"Breaks", d.breaks}} {
			for _, g := range k.rs {
				for _, p := range g.Alternatives {
					if !p.AppliesToArch(s.u.rel.Arch) {
						continue
					}
					if m := s.satisfiedByMarked(p); m != nil && m.pkg.Name != n.pkg.Name {
						return &ConflictError{Release: s.u.rel.Name, Arch: s.u.rel.Arch, Kind: k.kind, Chain: n.chain(), Against: m.chain(), Relation: p.String()}
					}
				}
			}
		}
	}
	return nil
}
