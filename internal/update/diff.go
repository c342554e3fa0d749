package update

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/relation"
	"github.com/temper-dev/temper/internal/debian/version"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/spec"
)

type pkgKey struct{ name, arch string }

// pending is a package change whose .debs are still to be compared for
// ABI risk: the change at idx in Image.Changes.
type pending struct {
	idx      int
	old, new spec.LockedPackage
}

// diff compares the old and new closures of every architecture, then
// inspects what changed: the shared libraries of every upgraded or renamed
// package, and the changelog of every upgraded source.
func (c *checker) diff(ctx context.Context, img *Image, def *spec.Definition, old, nl *spec.Lock) error {
	var checks []pending
	for _, arch := range archsOf(old, nl) {
		om, nm := packagesOf(old, arch), packagesOf(nl, arch)
		checks = append(checks, versionChanges(img, arch, om, nm)...)
		u, err := c.universe(ctx, def, arch)
		if err != nil {
			return err
		}
		versions := u.Release().Versions
		local, err := lock.LocalIndex(def, arch)
		if err != nil {
			return err
		}
		if local != nil {
			// The release as lock.Resolve saw it: local .debs included.
			versions = func(name string) []*archive.Package {
				out := u.Release().Versions(name)
				for i := range local.Packages {
					if local.Packages[i].Name == name {
						out = append(slices.Clip(out), &local.Packages[i])
					}
				}
				return out
			}
		}
		checks = append(checks, membershipChanges(img, versions, arch, om, nm)...)
	}
	img.Sources = sourceUpdates(old, nl, img.Changes)
	c.inspect(ctx, img, def, nl, checks)
	sort.SliceStable(img.Changes, func(i, j int) bool {
		a, b := img.Changes[i], img.Changes[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Arch < b.Arch
	})
	return nil
}

// archsOf lists the architectures of either lock, sorted.
func archsOf(old, nl *spec.Lock) []string {
	archSet := map[string]bool{}
	for a := range old.Architectures {
		archSet[a] = true
	}
	for a := range nl.Architectures {
		archSet[a] = true
	}
	archs := make([]string, 0, len(archSet))
	for a := range archSet {
		archs = append(archs, a)
	}
	sort.Strings(archs)
	return archs
}

// versionChanges records the packages of both closures whose version
// changed (upgraded or downgraded) in img and returns them for the ABI
// comparison.
func versionChanges(img *Image, arch string, om, nm map[pkgKey]spec.LockedPackage) []pending {
	var checks []pending
	for k, np := range nm {
		op, ok := om[k]
		if !ok {
			continue
		}
		cmp := version.CompareStrings(np.Version, op.Version)
		if cmp == 0 {
			if np.SHA256 != op.SHA256 {
				// The same version with other bytes: a local .deb rebuilt
				// in the catalog (or a repository republishing it).
				img.Changes = append(img.Changes, Change{Kind: Rebuilt, Arch: arch, Name: np.Name, Old: op.Version, New: np.Version, Suite: np.Suite, Source: np.Source})
				checks = append(checks, pending{len(img.Changes) - 1, op, np})
			}
			continue // same version (maybe now listed in another suite): nothing to apply
		}
		ch := Change{Kind: Upgraded, Arch: arch, Name: np.Name, Old: op.Version, New: np.Version, Suite: np.Suite, Security: isSecurity(np.Suite), Source: np.Source}
		if cmp < 0 {
			ch.Kind = Downgraded
		}
		img.Changes = append(img.Changes, ch)
		checks = append(checks, pending{len(img.Changes) - 1, op, np})
	}
	return checks
}

// membershipChanges records the packages that left or joined the closure
// in img. A removed package that an added one takes the place of (libssl3
// → libssl3t64) is one renamed change, an ABI risk, returned for the ABI
// comparison.
func membershipChanges(img *Image, versions func(name string) []*archive.Package, arch string, om, nm map[pkgKey]spec.LockedPackage) []pending {
	var added, removed []spec.LockedPackage
	for k, np := range nm {
		if _, ok := om[k]; !ok {
			added = append(added, np)
		}
	}
	for k, op := range om {
		if _, ok := nm[k]; !ok {
			removed = append(removed, op)
		}
	}
	sortPkgs(added)
	sortPkgs(removed)
	var checks []pending
	usedAdded := map[int]bool{}
	for _, op := range removed {
		j := -1
		for i, np := range added {
			if !usedAdded[i] && renames(versions, np, op) {
				j = i
				break
			}
		}
		if j < 0 {
			img.Changes = append(img.Changes, Change{Kind: Removed, Arch: arch, Name: op.Name, Old: op.Version, Source: op.Source})
			continue
		}
		usedAdded[j] = true
		np := added[j]
		img.Changes = append(img.Changes, Change{Kind: Renamed, Arch: arch, Name: np.Name, OldName: op.Name, Old: op.Version, New: np.Version,
			Suite: np.Suite, Security: isSecurity(np.Suite), Source: np.Source,
			ABIRisk: fmt.Sprintf("%s is replaced by the renamed package %s", op.Name, np.Name)})
		checks = append(checks, pending{len(img.Changes) - 1, op, np})
	}
	for i, np := range added {
		if !usedAdded[i] {
			img.Changes = append(img.Changes, Change{Kind: Added, Arch: arch, Name: np.Name, New: np.Version, Suite: np.Suite, Security: isSecurity(np.Suite), Source: np.Source})
		}
	}
	return checks
}

// inspect compares the shared libraries of every pending change (SONAMEs
// the old package shipped that the new one does not) and reads the CVEs of
// every source update, all at once: the .deb work they share is bounded by
// c.debWork.
func (c *checker) inspect(ctx context.Context, img *Image, def *spec.Definition, nl *spec.Lock, checks []pending) {
	var wg sync.WaitGroup
	for _, p := range checks {
		wg.Go(func() {
			risk, note := c.abiRisk(ctx, p.old, p.new)
			ch := &img.Changes[p.idx]
			if risk != "" {
				if ch.ABIRisk != "" {
					ch.ABIRisk += "; "
				}
				ch.ABIRisk += risk
			}
			ch.Note = note
		})
	}
	for i := range img.Sources {
		wg.Go(func() { c.explain(ctx, &img.Sources[i], def, nl) })
	}
	wg.Wait()
}

func packagesOf(l *spec.Lock, arch string) map[pkgKey]spec.LockedPackage {
	m := map[pkgKey]spec.LockedPackage{}
	if a := l.Architectures[arch]; a != nil {
		for _, p := range a.Packages {
			m[pkgKey{p.Name, p.Architecture}] = p
		}
	}
	return m
}

func sortPkgs(ps []spec.LockedPackage) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
}

func isSecurity(suite string) bool { return strings.HasSuffix(suite, "-security") }

// renames says whether np (added) takes the place of op (removed): its
// Provides or Replaces name op, or it is the same source's library under a
// new name (libfoo1 → libfoo2, libssl3 → libssl3t64).
func renames(versions func(name string) []*archive.Package, np, op spec.LockedPackage) bool {
	for _, p := range versions(np.Name) {
		if p.Version != np.Version {
			continue
		}
		for _, field := range []string{p.Provides, p.Replaces} {
			if field == "" {
				continue
			}
			rels, err := relation.Parse(field)
			if err != nil {
				continue
			}
			for _, r := range rels {
				for _, alt := range r.Alternatives {
					if alt.Name == op.Name {
						return true
					}
				}
			}
		}
		break
	}
	return np.Source == op.Source && stem(np.Name) == stem(op.Name)
}

// stem strips a library package's ABI suffix: digits, dots, "t64", "-" and
// "+" at the end of the name.
func stem(name string) string {
	name = strings.TrimSuffix(name, "t64")
	return strings.TrimRight(name, "0123456789.-+")
}

// sourceUpdates lists the source packages whose version went up, with
// the lowest locked and highest new source version.
func sourceUpdates(old, nl *spec.Lock, changes []Change) []SourceUpdate {
	srcs := map[string]bool{}
	sec := map[string]bool{}
	for _, ch := range changes {
		if ch.Kind == Upgraded || ch.Kind == Renamed {
			srcs[ch.Source] = true
			sec[ch.Source] = sec[ch.Source] || ch.Security
		}
	}
	lo, hi := map[string]string{}, map[string]string{}
	for _, a := range old.Architectures {
		for _, p := range a.Packages {
			if v, ok := lo[p.Source]; srcs[p.Source] && (!ok || version.CompareStrings(p.SourceVersion, v) < 0) {
				lo[p.Source] = p.SourceVersion
			}
		}
	}
	for _, a := range nl.Architectures {
		for _, p := range a.Packages {
			if v, ok := hi[p.Source]; srcs[p.Source] && (!ok || version.CompareStrings(p.SourceVersion, v) > 0) {
				hi[p.Source] = p.SourceVersion
			}
		}
	}
	var out []SourceUpdate
	for s := range srcs {
		if lo[s] == "" || hi[s] == "" || version.CompareStrings(hi[s], lo[s]) <= 0 {
			continue // a binNMU or a rename within one source version: no new changelog entries
		}
		out = append(out, SourceUpdate{Source: s, Old: lo[s], New: hi[s], Security: sec[s], CVEs: []string{}, Versions: []string{}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}
