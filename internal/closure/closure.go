// Package closure checks a lock before a build trusts it: for one
// architecture, every Depends and Pre-Depends of every locked package, as
// its verified .deb's control file states them, is satisfied by a package
// of the lock (by name or by Provides, with the version the relation asks
// for). A hand edit that removes a dependency, or pins a version that no
// longer satisfies its dependents, is refused with the package and the
// relation that is missing.
package closure

import (
	"errors"
	"fmt"
	"path"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/temper-dev/temper/internal/debian/deb"
	"github.com/temper-dev/temper/internal/debian/deb822"
	"github.com/temper-dev/temper/internal/debian/relation"
	"github.com/temper-dev/temper/internal/spec"
)

// pkg is what the check needs of one package's control file.
type pkg struct {
	name, version, multiArch string
	depends                  relation.Relations // Pre-Depends, then Depends
	provides                 relation.Relations
}

// Check verifies the closure of l's packages for arch. debs maps each
// package's SHA-256 (as the lock pins it) to its verified .deb. The
// dependencies of the packages named in noDeps (the definition's
// no_dependencies) are not followed, as the resolver did not follow
// them. Every missing relation is reported, sorted, in one error.
func Check(l *spec.Lock, arch string, debs map[string][]byte, noDeps []string) error {
	a, ok := l.Architectures[arch]
	if !ok {
		return fmt.Errorf("lock: no packages for architecture %s", arch)
	}
	pkgs := make([]*pkg, len(a.Packages))
	errs := make([]error, len(a.Packages))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, lp := range a.Packages {
		g.Go(func() error {
			pkgs[i], errs[i] = read(lp, debs[lp.SHA256])
			return nil
		})
	}
	g.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	skip := map[string]bool{}
	for _, n := range noDeps {
		skip[n] = true
	}
	for _, p := range pkgs {
		if skip[p.name] {
			p.depends = nil
		}
	}
	return check(pkgs, arch)
}

func read(lp spec.LockedPackage, data []byte) (*pkg, error) {
	id := fmt.Sprintf("lock: %s %s (%s)", lp.Name, lp.Version, lp.Architecture)
	if data == nil {
		return nil, fmt.Errorf("%s: no .deb fetched for sha256 %s", id, lp.SHA256)
	}
	d, err := deb.Open(path.Base(lp.Filename), data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	ctrl, err := d.Control()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	sc := deb822.NewBytesScanner(ctrl["control"])
	if !sc.Scan() {
		return nil, fmt.Errorf("%s: empty control file", id)
	}
	st := sc.Stanza()
	p := &pkg{name: st.GetString("Package"), version: st.GetString("Version"), multiArch: st.GetString("Multi-Arch")}
	if p.name != lp.Name || p.version != lp.Version {
		return nil, fmt.Errorf("%s: the .deb is %s %s, not what the lock names", id, p.name, p.version)
	}
	for _, f := range []string{"Pre-Depends", "Depends", "Provides"} {
		rs, err := relation.Parse(st.GetString(f))
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", id, f, err)
		}
		if f == "Provides" {
			p.provides = rs
		} else {
			p.depends = append(p.depends, rs...)
		}
	}
	return p, nil
}

// provision is one Provides entry: the providing package and the
// version it provides ("" for none).
type provision struct {
	by      *pkg
	version string
}

func check(pkgs []*pkg, arch string) error {
	byName := map[string]*pkg{}
	provides := map[string][]provision{}
	for _, p := range pkgs {
		byName[p.name] = p
		for _, r := range p.provides {
			for _, alt := range r.Alternatives {
				v := ""
				if alt.Op == relation.EQ {
					v = alt.Version
				}
				provides[alt.Name] = append(provides[alt.Name], provision{p, v})
			}
		}
	}
	var missing []string
	for _, p := range pkgs {
		for _, r := range p.depends {
			if !satisfied(r, arch, byName, provides) {
				missing = append(missing, fmt.Sprintf("%s %s depends on %s, which no package of the lock satisfies%s",
					p.name, p.version, r, why(r, arch, byName)))
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return fmt.Errorf("lock: the packages for %s are not a closed set (was the lock edited by hand? run `temper lock` to rewrite it):\n  %s",
		arch, strings.Join(missing, "\n  "))
}

func satisfied(r relation.Relation, arch string, byName map[string]*pkg, provides map[string][]provision) bool {
	applies := false
	for _, alt := range r.Alternatives {
		if !alt.AppliesToArch(arch) {
			continue
		}
		applies = true
		if p, ok := byName[alt.Name]; ok && alt.SatisfiedBy(p.version) && archOK(alt, p) {
			return true
		}
		for _, pv := range provides[alt.Name] {
			if (alt.Op == relation.None || pv.version != "" && alt.SatisfiedBy(pv.version)) && archOK(alt, pv.by) {
				return true
			}
		}
	}
	return !applies // a relation for other architectures only
}

// archOK: an image is one architecture, so every package is native or
// "all"; ":any" needs Multi-Arch: allowed, as in dpkg.
func archOK(alt relation.Possibility, p *pkg) bool {
	return alt.ArchQual != "any" || p.multiArch == "allowed"
}

// why says what the lock holds under the relation's names.
func why(r relation.Relation, arch string, byName map[string]*pkg) string {
	var held []string
	for _, alt := range r.Alternatives {
		if p, ok := byName[alt.Name]; ok && alt.AppliesToArch(arch) {
			held = append(held, p.name+" "+p.version)
		}
	}
	if len(held) == 0 {
		return " (none of its packages is in the lock)"
	}
	return " (the lock has " + strings.Join(held, ", ") + ")"
}
