// Command layersim compares layer grouping rules on the catalog's locks,
// using each .deb's size as the proxy for its compressed layer bytes: for
// every rule, the unique bytes of the whole catalog in one layout (layers
// shared by identical package sets count once) against one layer per
// image. Every rule is applied twice: to the runtimes' locks alone and to
// the whole catalog (the dev variants' NAME.VARIANT.lock.yaml too, each
// paired with its runtime's NAME.lock.yaml for the rules that pair them).
// Usage: go run ./bench/layersim [catalog dir].
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/temper-dev/temper/internal/layers"
	"github.com/temper-dev/temper/internal/spec"
)

type image struct {
	name, key string // key: release/arch
	pkgs      []spec.LockedPackage
	// variant: a dev variant's image; runtime: its runtime's packages
	// (same architecture); hasVariants: a runtime whose definition has
	// variants.
	variant     bool
	runtime     []spec.LockedPackage
	hasVariants bool
}

type rule struct {
	name  string
	group func(image) [][]spec.LockedPackage
}

func main() {
	dir := "examples/catalog"
	for _, a := range os.Args[1:] {
		if a != "-variants" { // -variants: accepted, both sets are always shown
			dir = a
		}
	}
	var images []image
	locks := map[string]*spec.Lock{}
	load := func(p string) *spec.Lock {
		if l := locks[p]; l != nil {
			return l
		}
		l, err := spec.LoadLock(p)
		if err != nil {
			panic(err)
		}
		locks[p] = l
		return l
	}
	withVariants := map[string]bool{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".lock.yaml") {
			return err
		}
		l := load(p)
		// NAME.VARIANT.lock.yaml is a variant's lock (docs/variants.md),
		// beside its runtime's NAME.lock.yaml.
		variant := isVariant(p)
		var rt *spec.Lock
		if variant {
			rp := runtimeLockPath(p)
			rt = load(rp)
			withVariants[rp] = true
		}
		for arch, a := range l.Architectures {
			im := image{name: p + " " + arch, key: l.Release + "/" + arch, pkgs: a.Packages, variant: variant}
			if rt != nil {
				im.runtime = rt.Architectures[arch].Packages
			}
			images = append(images, im)
		}
		return nil
	})
	for i, im := range images {
		images[i].hasVariants = withVariants[strings.Fields(im.name)[0]]
	}
	sort.Slice(images, func(i, j int) bool { return images[i].name < images[j].name })
	var runtimes []image
	for _, im := range images {
		if !im.variant {
			runtimes = append(runtimes, im)
		}
	}
	rs, all := rulesFor(runtimes), rulesFor(images)
	fmt.Printf("%-62s %-40s %s\n", "rule (.deb sizes; unique / one layer)", "runtimes ("+fmt.Sprint(len(runtimes))+" images)", "whole catalog ("+fmt.Sprint(len(images))+" images)")
	for i := range rs {
		fmt.Printf("%-62s %-40s %s\n", rs[i].name, simulate(rs[i], runtimes), simulate(all[i], images))
	}
}

// runtimeLockPath is NAME.lock.yaml for a variant's NAME.VARIANT.lock.yaml.
func runtimeLockPath(p string) string {
	base := strings.TrimSuffix(filepath.Base(p), ".lock.yaml")
	if i := strings.LastIndex(base, "."); i > 0 {
		base = base[:i]
	}
	return filepath.Join(filepath.Dir(p), base+".lock.yaml")
}

// per is a rule that sees one image's packages only.
func per(f func([]spec.LockedPackage) [][]spec.LockedPackage) func(image) [][]spec.LockedPackage {
	return func(im image) [][]spec.LockedPackage { return f(im.pkgs) }
}

func packagesOf(gs []layers.Group) [][]spec.LockedPackage {
	var out [][]spec.LockedPackage
	for _, g := range gs {
		out = append(out, g.Packages)
	}
	return out
}

// paired is the rule of runtimes with variants and their variants with r
// package layers reserved (r = layers.VariantLayers is temper's; others
// for comparison): a runtime with variants is split into 7-r layers, a
// variant is its runtime's groups (its packages that are the same .deb)
// plus its other packages split into r layers. keepRuntime < 0 keeps all
// runtime groups; else the variant keeps the runtime's first keepRuntime
// groups and merges the rest of the runtime's packages with its own.
func paired(r, keepRuntime int) func(image) [][]spec.LockedPackage {
	return func(im image) [][]spec.LockedPackage {
		if !im.variant && !im.hasVariants {
			gs, _ := layers.Split(im.pkgs, 7)
			return packagesOf(gs)
		}
		if !im.variant {
			gs, _ := layers.Split(im.pkgs, 7-r)
			return packagesOf(gs)
		}
		base, _ := layers.Split(im.runtime, 7-r)
		if keepRuntime >= 0 && keepRuntime < len(base) {
			base = base[:keepRuntime]
		}
		type deb struct{ n, v, s string }
		mine := map[deb]int{}
		for i, p := range im.pkgs {
			mine[deb{p.Name, p.Version, p.SHA256}] = i
		}
		used := make([]bool, len(im.pkgs))
		var out [][]spec.LockedPackage
		for _, g := range base {
			var vg []spec.LockedPackage
			for _, p := range g.Packages {
				if i, ok := mine[deb{p.Name, p.Version, p.SHA256}]; ok && !used[i] {
					used[i] = true
					vg = append(vg, im.pkgs[i])
				}
			}
			if len(vg) > 0 {
				out = append(out, vg)
			}
		}
		var extra []spec.LockedPackage
		for i, p := range im.pkgs {
			if !used[i] {
				extra = append(extra, p)
			}
		}
		if len(extra) > 0 {
			gs, _ := layers.Split(extra, 7-len(out))
			out = append(out, packagesOf(gs)...)
		}
		return out
	}
}

func simulate(r rule, images []image) string {
	seen := map[string]bool{}
	var unique, total int64
	maxLayers := 0
	for _, img := range images {
		groups := r.group(img)
		maxLayers = max(maxLayers, len(groups))
		for _, g := range groups {
			var ids []string
			var size int64
			for _, x := range g {
				ids = append(ids, x.Name+"="+x.Version+"="+x.Architecture)
				size += x.Size
			}
			sort.Strings(ids)
			k := strings.Split(img.key, "/")[0] + " " + strings.Join(ids, ",")
			total += size
			if !seen[k] {
				seen[k] = true
				unique += size
			}
		}
	}
	return fmt.Sprintf("%7.1f of %7.1f MB %5.1f%% max %d", float64(unique)/1e6, float64(total)/1e6, 100*float64(unique)/float64(total), maxLayers)
}

func rulesFor(images []image) []rule {
	tiers := func(lo, hi float64) map[string]map[string]bool { return tierOf(images, lo, hi) }
	base50 := tiers(0.5, 1.01)
	hi75, mid30 := tiers(0.75, 1.01), tiers(0.3, 0.75)
	clusters := clustersOf(images)
	greedy := greedyTiers(images, 7)
	greedy11 := greedyTiers(images, 11)
	rules := []rule{
		{"one layer", per(func(p []spec.LockedPackage) [][]spec.LockedPackage { return [][]spec.LockedPackage{p} })},
		{"one layer per package (no budget: the bound)", per(func(p []spec.LockedPackage) [][]spec.LockedPackage {
			var out [][]spec.LockedPackage
			for _, x := range p {
				out = append(out, []spec.LockedPackage{x})
			}
			return out
		})},
		{"one layer per source (no budget)", per(func(p []spec.LockedPackage) [][]spec.LockedPackage { return bySource(p) })},
		{"source units, 7 largest alone, rest together", per(func(p []spec.LockedPackage) [][]spec.LockedPackage { return largest(bySource(p), 7) })},
		{"source units, 6 largest alone, rest split all/any", per(func(p []spec.LockedPackage) [][]spec.LockedPackage {
			g := largest(bySource(p), 7)
			if len(g) < 7 {
				return g
			}
			rest := g[6]
			var a, b []spec.LockedPackage
			for _, x := range rest {
				if x.Architecture == "all" {
					a = append(a, x)
				} else {
					b = append(b, x)
				}
			}
			return append(g[:6:6], a, b)
		})},
		{"source units, 5 largest alone, rest split all/any", per(func(p []spec.LockedPackage) [][]spec.LockedPackage {
			g := largest(bySource(p), 6)
			if len(g) < 6 {
				return g
			}
			rest := g[5]
			var a, b []spec.LockedPackage
			for _, x := range rest {
				if x.Architecture == "all" {
					a = append(a, x)
				} else {
					b = append(b, x)
				}
			}
			return append(g[:5:5], a, b)
		})},
		{"package units, 7 largest alone, rest together", per(func(p []spec.LockedPackage) [][]spec.LockedPackage {
			var u [][]spec.LockedPackage
			for _, x := range p {
				u = append(u, []spec.LockedPackage{x})
			}
			return largest(u, 7)
		})},
		{"hash(source) mod 7", per(func(p []spec.LockedPackage) [][]spec.LockedPackage {
			m := map[uint32][]spec.LockedPackage{}
			for _, x := range p {
				h := uint32(2166136261)
				for _, c := range []byte(x.Source) {
					h = (h ^ uint32(c)) * 16777619
				}
				m[h%7] = append(m[h%7], x)
			}
			var out [][]spec.LockedPackage
			for _, v := range m {
				out = append(out, v)
			}
			return out
		})},
		{"tier: sources in >= 50% of the release's images, 5 units by score, rest", per(func(p []spec.LockedPackage) [][]spec.LockedPackage {
			return withTiers(p, []map[string]bool{base50[release(p, images)]}, 7)
		})},
		{"tiers: >= 75%, 30-75%, 4 units by score, rest", per(func(p []spec.LockedPackage) [][]spec.LockedPackage {
			r := release(p, images)
			return withTiers(p, []map[string]bool{hi75[r], mid30[r]}, 7)
		})},
		{"clusters: sources by the set of images holding them, 6 largest, rest", per(func(p []spec.LockedPackage) [][]spec.LockedPackage {
			return byCluster(p, clusters[release(p, images)], 7)
		})},
		{"tiers in temper.yaml: clusters merged greedily to 7 per image", per(func(p []spec.LockedPackage) [][]spec.LockedPackage {
			return byTier(p, greedy[release(p, images)])
		})},
		{"temper's rule, budget 12 (11 package layers)", per(func(p []spec.LockedPackage) [][]spec.LockedPackage {
			gs, _ := layers.Split(p, 11)
			var out [][]spec.LockedPackage
			for _, g := range gs {
				out = append(out, g.Packages)
			}
			return out
		})},
		{"temper's rule, budget 16 (15 package layers)", per(func(p []spec.LockedPackage) [][]spec.LockedPackage {
			gs, _ := layers.Split(p, 15)
			var out [][]spec.LockedPackage
			for _, g := range gs {
				out = append(out, g.Packages)
			}
			return out
		})},
		{"tiers in temper.yaml: clusters merged greedily to 11 per image", per(func(p []spec.LockedPackage) [][]spec.LockedPackage {
			return byTier(p, greedy11[release(p, images)])
		})},
		{"each image split alone, size x popularity (before pairing)", per(func(p []spec.LockedPackage) [][]spec.LockedPackage {
			gs, err := layers.Split(p, 7)
			if err != nil {
				panic(err)
			}
			return packagesOf(gs)
		})},
		{"paired, 1 layer reserved for a variant's own packages", paired(1, -1)},
		{"paired, 3 layers reserved", paired(3, -1)},
		{"paired, 2 reserved, variant keeps the runtime's first 3 groups", paired(2, 3)},
		{"paired, 2 reserved, variant keeps the runtime's first 4 groups", paired(2, 4)},
		{"temper: paired, 2 reserved (layers.SplitRuntime/SplitVariant)", func(im image) [][]spec.LockedPackage {
			var gs []layers.Group
			var err error
			switch {
			case im.variant:
				gs, err = layers.SplitVariant(im.runtime, im.pkgs, 7)
			case im.hasVariants:
				gs, err = layers.SplitRuntime(im.pkgs, 7)
			default:
				gs, err = layers.Split(im.pkgs, 7)
			}
			if err != nil {
				panic(err)
			}
			return packagesOf(gs)
		}},
	}
	return rules
}

func bySource(p []spec.LockedPackage) [][]spec.LockedPackage {
	m := map[string][]spec.LockedPackage{}
	var keys []string
	for _, x := range p {
		if m[x.Source] == nil {
			keys = append(keys, x.Source)
		}
		m[x.Source] = append(m[x.Source], x)
	}
	var out [][]spec.LockedPackage
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}

func size(g []spec.LockedPackage) (n int64) {
	for _, x := range g {
		n += x.Size
	}
	return n
}

func largest(units [][]spec.LockedPackage, n int) [][]spec.LockedPackage {
	sort.SliceStable(units, func(i, j int) bool { return size(units[i]) > size(units[j]) })
	if len(units) <= n {
		return units
	}
	out := append([][]spec.LockedPackage(nil), units[:n-1]...)
	var rest []spec.LockedPackage
	for _, u := range units[n-1:] {
		rest = append(rest, u...)
	}
	return append(out, rest)
}

func isVariant(p string) bool {
	base := strings.TrimSuffix(filepath.Base(p), ".lock.yaml")
	_, err := os.Stat(filepath.Join(filepath.Dir(p), base+".yaml"))
	return err != nil // NAME.VARIANT.lock.yaml has no NAME.VARIANT.yaml
}

func srcOf(x spec.LockedPackage) string {
	if x.Source != "" {
		return x.Source
	}
	return x.Name
}
