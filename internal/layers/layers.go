// Package layers is the rule that splits an image's packages into layers
// so that images of one release and architecture share layers byte for
// byte: a deterministic function of one image's lock, never of the rest
// of the catalog, so that adding, removing or changing another definition
// never moves an image's digest.
//
// The rule (docs/layers.md says why, and what else was measured):
//
//   - A unit is a source package: the binary packages of the image built
//     from one source (libc6 and libc-bin from glibc; perl, perl-base,
//     perl-modules-5.36 and libperl5.36 from perl). A security update
//     lands per source, so it changes one unit.
//   - Each unit scores its size (the sum of its .debs' sizes, as the lock
//     records them) times its popularity: how many of the image's
//     packages need one of the unit's packages, directly or not (the
//     unit's packages included). Foundations (glibc, openssl) score high
//     even where they are small; a large application scores its size.
//   - With a budget of n package layers, the n-1 highest-scoring units
//     each get a layer of their own and the remaining units share the
//     last one; when the image has n units or fewer, every unit is alone.
//     Ties break by source name.
//
// A unit's own layer holds the same files in every image that holds the
// same binary packages of that source at the same versions, so it is the
// same blob; a shared "rest" layer is shared only by images with the
// same rest.
//
// A definition with variants (a variant's lock is the runtime's closure at
// the same versions plus its own packages) is split as a pair
// (SplitRuntime, SplitVariant): the runtime leaves VariantLayers of its
// package layers unused, and each variant is the runtime's groups, same
// packages in the same order, plus its own packages split by the rule
// above into those reserved layers. A variant's image then holds every
// package layer of its runtime's image. A runtime without variants is
// split by Split alone, as before.
package layers

import (
	"fmt"
	"sort"

	"github.com/temper-dev/temper/internal/spec"
)

// DefaultBudget is the default number of layers of an image: package
// layers plus the one layer of files the build generates.
const DefaultBudget = 8

// Group is one package layer: the source packages it holds and their
// binary packages, in the lock's order.
type Group struct {
	// Name is the source package of a unit's own layer ("glibc"), or
	// "rest: N sources" for the shared last layer.
	Name     string
	Sources  []string
	Packages []spec.LockedPackage
	// Runtime, in a variant's split (SplitVariant), is 1 + the index of
	// the runtime's group (SplitRuntime) this group holds the packages of;
	// 0 for the variant's own packages and in every other split.
	Runtime int
}

// Split groups one image's packages (the lock's closure for one
// architecture) into at most n package layers (n >= 1), bottom first: the
// units by descending score, then the rest.
func Split(pkgs []spec.LockedPackage, n int) ([]Group, error) {
	if n < 1 {
		return nil, fmt.Errorf("layers: a budget of %d package layers; need at least 1", n)
	}
	units, order := unitsOf(pkgs)
	score := scores(pkgs, units, order)
	sort.SliceStable(order, func(a, b int) bool {
		if score[order[a]] != score[order[b]] {
			return score[order[a]] > score[order[b]]
		}
		return order[a] < order[b]
	})
	var out []Group
	for k, src := range order {
		if k == n-1 && len(order) > n {
			rest := Group{Name: fmt.Sprintf("rest: %d sources", len(order)-k)}
			tail := append([]string(nil), order[k:]...)
			sort.Strings(tail)
			for _, s := range tail {
				rest.Sources = append(rest.Sources, s)
				for _, i := range units[s] {
					rest.Packages = append(rest.Packages, pkgs[i])
				}
			}
			return append(out, rest), nil
		}
		g := Group{Name: src, Sources: []string{src}}
		for _, i := range units[src] {
			g.Packages = append(g.Packages, pkgs[i])
		}
		out = append(out, g)
	}
	return out, nil
}

// unitsOf maps each source package to the indexes of its binary packages,
// and lists the sources in first-seen order.
func unitsOf(pkgs []spec.LockedPackage) (map[string][]int, []string) {
	units := map[string][]int{}
	var order []string
	for i, p := range pkgs {
		src := p.Source
		if src == "" {
			src = p.Name
		}
		if units[src] == nil {
			order = append(order, src)
		}
		units[src] = append(units[src], i)
	}
	return units, order
}

// scores is size × popularity per source (see the package comment).
func scores(pkgs []spec.LockedPackage, units map[string][]int, order []string) map[string]int64 {
	byName := make(map[string]int, len(pkgs))
	for i, p := range pkgs {
		byName[p.Name] = i
	}
	users := make([]int, len(pkgs))
	for i := range pkgs {
		seen := map[int]bool{i: true}
		stack := []int{i}
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, r := range pkgs[x].RequiredBy {
				if j, ok := byName[r]; ok && !seen[j] {
					seen[j] = true
					stack = append(stack, j)
				}
			}
		}
		users[i] = len(seen)
	}
	score := make(map[string]int64, len(order))
	for _, s := range order {
		var size int64
		pop := 1
		for _, i := range units[s] {
			size += pkgs[i].Size
			pop = max(pop, users[i])
		}
		score[s] = size * int64(pop)
	}
	return score
}

// VariantLayers is how many package layers a runtime with variants leaves
// to each variant's own packages (docs/layers.md: 2 measured best on the
// example catalog; 1 and 3 were measured too).
const VariantLayers = 2

// Reserved is how many of n package layers a runtime with variants leaves
// to its variants: VariantLayers, fewer when n is too small for that and
// at least one layer for the runtime (n = 2: 1; n = 1: none, and then a
// variant is split alone by Split and shares no layer with its runtime).
func Reserved(n int) int {
	return max(0, min(VariantLayers, n-1))
}

// SplitRuntime groups the packages of a runtime whose definition has
// variants into at most n - Reserved(n) package layers, by Split.
func SplitRuntime(pkgs []spec.LockedPackage, n int) ([]Group, error) {
	if n < 1 {
		return nil, fmt.Errorf("layers: a budget of %d package layers; need at least 1", n)
	}
	return Split(pkgs, n-Reserved(n))
}

// SplitVariant groups a variant's packages (pkgs) into at most n package
// layers, bottom first: the groups SplitRuntime makes of its runtime's
// packages (runtime, the same architecture's closure), each holding the
// variant's packages that are the same .deb (name, version and SHA-256)
// as one of the group's, in the group's order; then the variant's other
// packages (its own, and any the runtime holds at another version) split
// by Split into Reserved(n) layers. A runtime group none of whose packages
// the variant holds is left out. When Reserved(n) is 0 the variant is
// split alone: Split(pkgs, n).
func SplitVariant(runtime, pkgs []spec.LockedPackage, n int) ([]Group, error) {
	if n < 1 {
		return nil, fmt.Errorf("layers: a budget of %d package layers; need at least 1", n)
	}
	r := Reserved(n)
	if r == 0 {
		return Split(pkgs, n)
	}
	base, err := SplitRuntime(runtime, n)
	if err != nil {
		return nil, err
	}
	type deb struct{ name, version, sha string }
	mine := make(map[deb]int, len(pkgs))
	for i, p := range pkgs {
		mine[deb{p.Name, p.Version, p.SHA256}] = i
	}
	used := make([]bool, len(pkgs))
	var out []Group
	for j, g := range base {
		vg := Group{Name: g.Name, Runtime: j + 1}
		for _, p := range g.Packages {
			i, ok := mine[deb{p.Name, p.Version, p.SHA256}]
			if !ok || used[i] {
				continue
			}
			used[i] = true
			vg.Packages = append(vg.Packages, pkgs[i])
		}
		if len(vg.Packages) == 0 {
			continue
		}
		vg.Sources = sourcesOf(vg.Packages)
		out = append(out, vg)
	}
	var extra []spec.LockedPackage
	for i, p := range pkgs {
		if !used[i] {
			extra = append(extra, p)
		}
	}
	if len(extra) == 0 {
		return out, nil
	}
	own, err := Split(extra, r)
	if err != nil {
		return nil, err
	}
	return append(out, own...), nil
}

// sourcesOf lists the source packages of pkgs, sorted.
func sourcesOf(pkgs []spec.LockedPackage) []string {
	_, order := unitsOf(pkgs)
	sort.Strings(order)
	return order
}
