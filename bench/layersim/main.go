// Command layersim compares layer grouping rules on the catalog's locks,
// using each .deb's size as the proxy for its compressed layer bytes: for
// every rule, the unique bytes of the whole catalog in one layout (layers
// shared by identical package sets count once) against one layer per
// image. Usage: go run ./bench/layersim [catalog dir].
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
}

func main() {
	dir := "examples/catalog"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	var images []image
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".lock.yaml") {
			return err
		}
		l, err := spec.LoadLock(p)
		if err != nil {
			panic(err)
		}
		for arch, a := range l.Architectures {
			images = append(images, image{name: p + " " + arch, key: l.Release + "/" + arch, pkgs: a.Packages})
		}
		return nil
	})
	sort.Slice(images, func(i, j int) bool { return images[i].name < images[j].name })
	rules := []struct {
		name  string
		group func([]spec.LockedPackage) [][]spec.LockedPackage
	}{
		{"one layer", func(p []spec.LockedPackage) [][]spec.LockedPackage { return [][]spec.LockedPackage{p} }},
		{"one layer per package (no budget: the bound)", func(p []spec.LockedPackage) [][]spec.LockedPackage {
			var out [][]spec.LockedPackage
			for _, x := range p {
				out = append(out, []spec.LockedPackage{x})
			}
			return out
		}},
		{"one layer per source (no budget)", func(p []spec.LockedPackage) [][]spec.LockedPackage { return bySource(p) }},
		{"source units, 7 largest alone, rest together", func(p []spec.LockedPackage) [][]spec.LockedPackage { return largest(bySource(p), 7) }},
		{"source units, 6 largest alone, rest split all/any", func(p []spec.LockedPackage) [][]spec.LockedPackage {
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
		}},
		{"source units, 5 largest alone, rest split all/any", func(p []spec.LockedPackage) [][]spec.LockedPackage {
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
		}},
		{"package units, 7 largest alone, rest together", func(p []spec.LockedPackage) [][]spec.LockedPackage {
			var u [][]spec.LockedPackage
			for _, x := range p {
				u = append(u, []spec.LockedPackage{x})
			}
			return largest(u, 7)
		}},
		{"hash(source) mod 7", func(p []spec.LockedPackage) [][]spec.LockedPackage {
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
		}},
		{"temper: source units by size x popularity (internal/layers)", func(p []spec.LockedPackage) [][]spec.LockedPackage {
			gs, err := layers.Split(p, 7)
			if err != nil {
				panic(err)
			}
			var out [][]spec.LockedPackage
			for _, g := range gs {
				out = append(out, g.Packages)
			}
			return out
		}},
	}
	for _, r := range rules {
		seen := map[string]bool{}
		var unique, total int64
		maxLayers := 0
		for _, img := range images {
			groups := r.group(img.pkgs)
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
		fmt.Printf("%-50s unique %7.1f MB of %7.1f MB (%5.1f%%), max %d package layers\n", r.name, float64(unique)/1e6, float64(total)/1e6, 100*float64(unique)/float64(total), maxLayers)
	}
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
