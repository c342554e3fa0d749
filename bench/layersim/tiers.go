package main

import (
	"sort"
	"strings"

	"github.com/temper-dev/temper/internal/layers"
	"github.com/temper-dev/temper/internal/spec"
)

// The catalog-fitted alternatives: tiers by how many of a release's images
// hold a source, clusters of sources held by the same images, and tiers
// merged greedily from the clusters (docs/layers.md, "Alternatives
// measured").

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
