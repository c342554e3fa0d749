package build

// A variant's image reuses its runtime's package layers (docs/layers.md,
// "Runtimes and their variants"): layers.SplitVariant gives it the
// runtime's package groups, and here each such group's layer is the
// runtime's own layer, byte for byte, whenever every entry of it is in the
// variant's tree as it is in the runtime's. What the variant has beyond
// (files its hardening keeps and the runtime's removes: a shell, dpkg,
// debconf's tools) goes up into the variant's own last package layer, so
// the runtime's layer is still shared.

import (
	"bytes"
	"context"
	"fmt"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/assemble"
	"github.com/temper-dev/temper/internal/layers"
	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

// keptFilesGroup names a variant's layer of the files of its runtime's
// packages that the runtime's image does not have, when the variant has no
// package of its own to put them with.
const keptFilesGroup = "variant: files the runtime removes"

// withRuntimeTrees lets a variant's layering assemble its runtime's tree
// for an architecture from the .debs fetched for the variant (the
// runtime's are among them) and the build's unpacked-package memo.
func (lay layering) withRuntimeTrees(ctx context.Context, fetched map[string][]byte, apt [2]string, memo *assemble.Packages) layering {
	if lay.runtime == nil || lay.runtimeDef == nil {
		return lay
	}
	lay.runtimeTree = func(arch string) (*rootfs.FS, error) {
		a := lay.runtime.Architectures[arch]
		if a == nil {
			return nil, nil
		}
		var debs []assemble.Deb
		for _, p := range a.Packages {
			data, ok := fetched[p.SHA256]
			if !ok {
				return nil, nil // a .deb of the runtime the variant does not hold: nothing to reuse
			}
			debs = append(debs, assemble.Deb{Package: p, Data: data})
		}
		tree, _, err := assemble.Assemble(assemble.Input{Def: lay.runtimeDef, Arch: arch, Debs: debs, Release: lay.runtime.Release, AptArchive: apt[0], AptSecurity: apt[1], Packages: memo, Context: ctx})
		if err != nil {
			return nil, fmt.Errorf("the runtime's tree: %w", err)
		}
		return tree, nil
	}
	return lay
}

// runtimeLayer is a layer of the runtime's that a variant reuses: its
// tree, and the layer when the runtime's build gave it (runtimeLayerMemo).
type runtimeLayer struct {
	tree  *rootfs.FS
	layer v1.Layer
}

// reuseRuntime takes a variant's groups (from layers.SplitVariant, n
// package layers) and tree, and returns the tree and groups to split
// (names per group) with the runtime's reusable layers' entries taken out,
// and the runtime's layers by group index. Entries of the runtime's
// packages that its layers do not hold go with the variant's last own
// group (a new one when it has none). The runtime's layers are its
// build's in this process when it hands them over (lay.runtimes), else
// split from its tree assembled again (lay.runtimeTree).
func (lay layering) reuseRuntime(ctx context.Context, arch string, tree *rootfs.FS, groups []layers.Group, n int) (*rootfs.FS, []layers.Group, [][]string, map[int]runtimeLayer, error) {
	names := groupNames(groups)
	if lay.runtimeTree == nil {
		return tree, groups, names, nil, nil
	}
	rg, err := layers.SplitRuntime(lay.runtime.Architectures[arch].Packages, n)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	rtrees, rlayers, err := lay.runtimeLayers(ctx, arch, rg, n)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if rtrees == nil {
		return tree, groups, names, nil, nil
	}
	reused, taken := reusable(tree, groups, len(rg), rtrees, rlayers)
	if len(reused) == 0 {
		return tree, groups, names, nil, nil
	}
	// A hard link left in the tree keeps its target with it (tar links
	// cannot cross layers); the target then is in both layers, the same.
	tree.Walk(func(e *rootfs.Entry) error {
		if e.Kind == rootfs.Hardlink && !taken[e.Path] {
			delete(taken, e.Target)
		}
		return nil
	})
	rest, err := without(tree, taken)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	groups, names = moveLeftNames(groups, names, reused)
	return rest, groups, names, reused, nil
}

// runtimeLayers returns the trees of the runtime's package layers (rg, from
// layers.SplitRuntime with n layers) and their layers: the runtime's build's
// in this process when lay.runtimes has them, else the trees split from the
// runtime's tree assembled again (no layers: nil ones). The trees are nil
// when the runtime's tree cannot be assembled (lay.runtimeTree gives none).
func (lay layering) runtimeLayers(ctx context.Context, arch string, rg []layers.Group, n int) ([]*rootfs.FS, []v1.Layer, error) {
	if k, ok := runtimeKeyOf(lay.runtimeDef, lay.runtime, arch, lay.apt, n, lay.compression, lay.cache); ok {
		set, err := lay.runtimes.get(ctx, k)
		if err != nil {
			return nil, nil, err
		}
		if set != nil && len(set.trees) == len(rg) {
			return set.trees, set.layers, nil
		}
	}
	rtree, err := lay.runtimeTree(arch)
	if err != nil || rtree == nil {
		return nil, nil, err
	}
	rtrees, err := assemble.SplitTree(rtree, groupNames(rg))
	if err != nil {
		return nil, nil, fmt.Errorf("the runtime's layers: %w", err)
	}
	return rtrees, make([]v1.Layer, len(rg)), nil
}

// reusable picks, by group index, the runtime's package layers (nrt of
// them: rtrees, rlayers) the variant's groups can take whole: those whose
// every entry is in tree as the runtime has it (and that hold more than
// the root). taken are the paths of their entries.
func reusable(tree *rootfs.FS, groups []layers.Group, nrt int, rtrees []*rootfs.FS, rlayers []v1.Layer) (map[int]runtimeLayer, map[string]bool) {
	reused := map[int]runtimeLayer{}
	taken := map[string]bool{}
	for k, g := range groups {
		if g.Runtime == 0 || g.Runtime > nrt {
			continue
		}
		t := rtrees[g.Runtime-1]
		if t.Len() <= 1 || !within(t, tree) {
			continue
		}
		reused[k] = runtimeLayer{tree: t, layer: rlayers[g.Runtime-1]}
		t.Walk(func(e *rootfs.Entry) error {
			if e.Path != "" {
				taken[e.Path] = true
			}
			return nil
		})
	}
	return reused, taken
}

// moveLeftNames moves the package names of the reused groups to the
// variant's last own group (a new one when it has none), which then holds
// those packages' entries the runtime's layers do not.
func moveLeftNames(groups []layers.Group, names [][]string, reused map[int]runtimeLayer) ([]layers.Group, [][]string) {
	var left []string
	for k := range groups {
		if reused[k].tree != nil {
			left = append(left, names[k]...)
			names[k] = nil
		}
	}
	last := -1
	for k, g := range groups {
		if g.Runtime == 0 {
			last = k
		}
	}
	if last < 0 {
		groups = append(groups, layers.Group{Name: keptFilesGroup})
		names = append(names, nil)
		last = len(groups) - 1
	}
	names[last] = append(names[last], left...)
	return groups, names
}

func groupNames(groups []layers.Group) [][]string {
	names := make([][]string, len(groups))
	for i, g := range groups {
		for _, p := range g.Packages {
			names[i] = append(names[i], p.Name)
		}
	}
	return names
}

// within reports whether every entry of t is in tree, the same in what a
// layer writes of it: kind, mode, owner, content, link target.
func within(t, tree *rootfs.FS) bool {
	ok := true
	t.Walk(func(e *rootfs.Entry) error {
		o, found := tree.Get(e.Path)
		if !found || o.Kind != e.Kind || o.Mode != e.Mode || o.UID != e.UID || o.GID != e.GID || o.Target != e.Target || !bytes.Equal(o.Data, e.Data) {
			ok = false
		}
		return nil
	})
	return ok
}

// without is a copy of tree without the taken entries: every taken
// non-directory, and every taken directory with nothing left below it.
func without(tree *rootfs.FS, taken map[string]bool) (*rootfs.FS, error) {
	below := map[string]bool{}
	tree.Walk(func(e *rootfs.Entry) error {
		if e.Path == "" || taken[e.Path] {
			return nil
		}
		for d := path.Dir(e.Path); d != "." && !below[d]; d = path.Dir(d) {
			below[d] = true
		}
		return nil
	})
	rest := rootfs.New()
	err := tree.Walk(func(e *rootfs.Entry) error {
		if e.Path != "" && taken[e.Path] && (e.Kind != rootfs.Dir || !below[e.Path]) {
			return nil
		}
		return rest.Put(e)
	})
	return rest, err
}

// runtimeDefinition is the runtime's definition of a variant's, read
// from the same file, checked to be the bytes the variant was derived
// from.
func runtimeDefinition(def *spec.Definition) (*spec.Definition, error) {
	rd, err := spec.LoadDefinition(def.File)
	if err != nil {
		return nil, err
	}
	if rd.SHA256 != def.SHA256 {
		return nil, fmt.Errorf("%s: changed while building its variant %s; build again", def.File, def.Variant)
	}
	return rd, nil
}
