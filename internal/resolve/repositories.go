package resolve

import (
	"fmt"
	"strings"

	"github.com/temper-dev/temper/internal/debian/archive"
)

// where names the suite a version comes from: "bookworm-security", or for a
// designated repository "php bookworm".
func where(p *archive.Package) string {
	if p.Repository != "" {
		return p.Repository + " " + p.Suite
	}
	return p.Suite
}

// describeVersions lists versions for messages: "1.0 (bookworm), 2.0 (php
// bookworm, priority 100)". Priorities are shown only under a policy.
func (u *Universe) describeVersions(vs []*archive.Package) string {
	have := make([]string, len(vs))
	for i, v := range vs {
		if u.cands != nil {
			have[i] = fmt.Sprintf("%s (%s, priority %d)", v.Version, where(v), u.Priority(v))
		} else {
			have[i] = v.Version + " (" + where(v) + ")"
		}
	}
	return strings.Join(have, ", ")
}

// WithRepositories returns a universe over u's release with the designated
// repositories' packages merged in, whose candidates follow the policy.
// Every pin that names a repository must find what it names there: a plain
// package name the repository lacks, or a glob that matches none of its
// packages, is a PinError, not silently a package from elsewhere.
func WithRepositories(u *Universe, repos []*archive.RepoIndex, p *Policy) (*Universe, error) {
	if err := CheckPins(repos, p, u.Arch()); err != nil {
		return nil, err
	}
	return NewPinnedUniverse(u.rel.WithRepositories(repos...), p)
}

// PinError is a pin naming packages its repository does not have.
type PinError struct {
	Pin        int    // index in the policy
	Repository string // the repository the pin names
	Where      string // the repository's suites, for the message
	Arch       string
	Missing    []string // names or patterns not found
	Suggest    []string // close names the repository has
}

func (e *PinError) Error() string {
	msg := fmt.Sprintf("pin to repository %s: %s not in %s for %s", e.Repository, quoteJoin(e.Missing), e.Where, e.Arch)
	if len(e.Suggest) > 0 {
		msg += "; it has: " + strings.Join(e.Suggest, ", ")
	}
	return msg + "; fix the pin's package names or the repository's suites and components"
}

func quoteJoin(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// CheckPins checks that each specific pin restricted to a designated
// repository names only packages that repository offers for arch.
func CheckPins(repos []*archive.RepoIndex, p *Policy, arch string) error {
	ms, err := compilePins(p)
	if err != nil {
		return err
	}
	for i := range ms {
		m := &ms[i]
		if m.general || m.pin.Repository == "" || m.pin.Repository == DebianRepository {
			continue
		}
		var mine []*archive.RepoIndex
		var wheres []string
		for _, x := range repos {
			if x.Repository.Name == m.pin.Repository {
				mine = append(mine, x)
				wheres = append(wheres, x.Repository.String())
			}
		}
		if len(mine) == 0 {
			return fmt.Errorf("pin %d names repository %q, which is not among the definition's repositories", i+1, m.pin.Repository)
		}
		var missing []string
		for _, pat := range m.pin.Packages {
			one := matcher{names: map[string]bool{}}
			single, err := compilePins(&Policy{Pins: []Pin{{Packages: []string{pat}, Priority: 1}}})
			if err == nil && len(single) == 1 {
				one = single[0]
			}
			found := false
			for _, x := range mine {
				for j := range x.Packages {
					if one.matchesName(x.Packages[j].Name) {
						found = true
						break
					}
				}
				if found {
					break
				}
			}
			if !found {
				missing = append(missing, pat)
			}
		}
		if len(missing) > 0 {
			e := &PinError{Pin: i, Repository: m.pin.Repository, Where: strings.Join(wheres, ", "), Arch: arch, Missing: missing}
			for _, x := range mine {
				for _, n := range x.Names() {
					if len(e.Suggest) < 8 && sharesPrefix(n, missing) {
						e.Suggest = append(e.Suggest, n)
					}
				}
			}
			return e
		}
	}
	return nil
}

// sharesPrefix reports whether name starts like one of the missing names
// (their first three characters), for suggestions.
func sharesPrefix(name string, missing []string) bool {
	for _, m := range missing {
		m = strings.TrimRight(m, "*?[]/")
		if len(m) > 3 {
			m = m[:3]
		}
		if m != "" && strings.HasPrefix(name, m) {
			return true
		}
	}
	return false
}
