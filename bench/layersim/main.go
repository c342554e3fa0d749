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

// release finds the release of an image by its package slice.
func release(p []spec.LockedPackage, images []image) string {
	for _, im := range images {
		if len(im.pkgs) > 0 && len(p) > 0 && &im.pkgs[0] == &p[0] {
			return strings.Split(im.key, "/")[0]
		}
	}
	panic("image not found")
}

// tierOf: per release, the sources held by a share in [lo, hi) of the
// release's images (what a hand-kept list in temper.yaml would name).
func tierOf(images []image, lo, hi float64) map[string]map[string]bool {
	count := map[string]map[string]int{}
	n := map[string]int{}
	for _, im := range images {
		r := strings.Split(im.key, "/")[0]
		n[r]++
		if count[r] == nil {
			count[r] = map[string]int{}
		}
		seen := map[string]bool{}
		for _, x := range im.pkgs {
			if s := srcOf(x); !seen[s] {
				seen[s] = true
				count[r][s]++
			}
		}
	}
	out := map[string]map[string]bool{}
	for r, c := range count {
		out[r] = map[string]bool{}
		for s, k := range c {
			if f := float64(k) / float64(n[r]); f >= lo && f < hi {
				out[r][s] = true
			}
		}
	}
	return out
}

// withTiers: one layer per tier (the image's sources in it), then the
// other sources by internal/layers' rule in what the budget leaves.
func withTiers(p []spec.LockedPackage, tiers []map[string]bool, n int) [][]spec.LockedPackage {
	var out [][]spec.LockedPackage
	var other []spec.LockedPackage
	in := make([][]spec.LockedPackage, len(tiers))
	for _, x := range p {
		placed := false
		for i, t := range tiers {
			if t[srcOf(x)] {
				in[i] = append(in[i], x)
				placed = true
				break
			}
		}
		if !placed {
			other = append(other, x)
		}
	}
	for _, g := range in {
		if len(g) > 0 {
			out = append(out, g)
		}
	}
	if len(other) > 0 {
		gs, err := layers.Split(other, n-len(out))
		if err != nil {
			panic(err)
		}
		for _, g := range gs {
			out = append(out, g.Packages)
		}
	}
	return out
}

// clustersOf: per release, each source's cluster is the set of images
// holding it (sources always installed together share a cluster).
func clustersOf(images []image) map[string]map[string]string {
	holders := map[string]map[string][]string{}
	for _, im := range images {
		r := strings.Split(im.key, "/")[0]
		if holders[r] == nil {
			holders[r] = map[string][]string{}
		}
		seen := map[string]bool{}
		for _, x := range im.pkgs {
			if s := srcOf(x); !seen[s] {
				seen[s] = true
				holders[r][s] = append(holders[r][s], strings.Fields(im.name)[0])
			}
		}
	}
	out := map[string]map[string]string{}
	for r, h := range holders {
		out[r] = map[string]string{}
		for s, names := range h {
			sort.Strings(names)
			out[r][s] = strings.Join(slicesCompact(names), ",")
		}
	}
	return out
}

func slicesCompact(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func byCluster(p []spec.LockedPackage, cluster map[string]string, n int) [][]spec.LockedPackage {
	m := map[string][]spec.LockedPackage{}
	var keys []string
	for _, x := range p {
		c := cluster[srcOf(x)]
		if m[c] == nil {
			keys = append(keys, c)
		}
		m[c] = append(m[c], x)
	}
	var units [][]spec.LockedPackage
	for _, k := range keys {
		units = append(units, m[k])
	}
	return largest(units, n)
}

// greedyTiers: per release, start from the clusters (sources held by the
// same images) and merge, for the image with the most layers over n, the
// two of its tiers whose merge adds the fewest unique bytes, until every
// image has at most n: the tiers a tool would write into temper.yaml.
func greedyTiers(images []image, n int) map[string]map[string]int {
	cl := clustersOf(images)
	out := map[string]map[string]int{}
	for r, c := range cl {
		var imgs []image
		for _, im := range images {
			if strings.Split(im.key, "/")[0] == r {
				imgs = append(imgs, im)
			}
		}
		ids := map[string]int{}
		tier := map[string]int{}
		srcs := make([]string, 0, len(c))
		for s := range c {
			srcs = append(srcs, s)
		}
		sort.Strings(srcs) // deterministic tier ids, hence tie-breaks
		for _, s := range srcs {
			k := c[s]
			if _, ok := ids[k]; !ok {
				ids[k] = len(ids)
			}
			tier[s] = ids[k]
		}
		for {
			worst, wl := -1, n
			for i, im := range imgs {
				if k := len(tiersIn(im.pkgs, tier)); k > wl {
					worst, wl = i, k
				}
			}
			if worst < 0 {
				break
			}
			ts := tiersIn(imgs[worst].pkgs, tier)
			best, ba, bb := int64(-1), 0, 0
			for x := 0; x < len(ts); x++ {
				for y := x + 1; y < len(ts); y++ {
					trial := map[string]int{}
					for s, t := range tier {
						if t == ts[y] {
							t = ts[x]
						}
						trial[s] = t
					}
					if u := uniqueBytes(imgs, trial); best < 0 || u < best {
						best, ba, bb = u, ts[x], ts[y]
					}
				}
			}
			for s, t := range tier {
				if t == bb {
					tier[s] = ba
				}
			}
		}
		out[r] = tier
	}
	return out
}

func tiersIn(p []spec.LockedPackage, tier map[string]int) []int {
	seen := map[int]bool{}
	var out []int
	for _, x := range p {
		if t := tier[srcOf(x)]; !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Ints(out)
	return out
}

func uniqueBytes(imgs []image, tier map[string]int) int64 {
	seen := map[string]bool{}
	var u int64
	for _, im := range imgs {
		for _, g := range byTier(im.pkgs, tier) {
			var ids []string
			for _, x := range g {
				ids = append(ids, x.Name+"="+x.Version+"="+x.Architecture)
			}
			sort.Strings(ids)
			k := strings.Join(ids, ",")
			if !seen[k] {
				seen[k] = true
				u += size(g)
			}
		}
	}
	return u
}

func byTier(p []spec.LockedPackage, tier map[string]int) [][]spec.LockedPackage {
	m := map[int][]spec.LockedPackage{}
	var keys []int
	for _, x := range p {
		t := tier[srcOf(x)]
		if m[t] == nil {
			keys = append(keys, t)
		}
		m[t] = append(m[t], x)
	}
	sort.Ints(keys)
	var out [][]spec.LockedPackage
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}
