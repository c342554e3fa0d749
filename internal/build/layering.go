package build

// How an image's tree becomes layers: internal/layers groups the lock's
// packages, internal/assemble splits the tree along the groups, and
// oci.LayerCache compresses each distinct layer once.

import (
	"context"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/assemble"
	"github.com/temper-dev/temper/internal/layers"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

// PackageLayerTime is the mtime of every entry of a package layer: the
// Unix epoch, so that a package layer's bytes depend on its files only,
// never on the lock that chose them (whose suite dates differ from one
// lock to the next). The layer of generated files takes the lock's
// SOURCE_DATE_EPOCH, as the image config does.
var PackageLayerTime = time.Unix(0, 0).UTC()

// generatedLayer names the last layer: the files the build generates.
const generatedLayer = "temper: generated files"

// layering is one build's layer settings.
type layering struct {
	budget      int
	compression oci.Compression
	cache       *oci.LayerCache
	// variants is set for a runtime whose definition has variants: it
	// leaves layers.Reserved of its package layers to them.
	variants bool
	// runtime is a variant's runtime's lock and runtimeDef its definition:
	// the variant's image reuses the runtime's package groups
	// (layers.SplitVariant) and their layers (reuseRuntime, with
	// runtimeTree, set by withRuntimeTrees).
	runtime     *spec.Lock
	runtimeDef  *spec.Definition
	runtimeTree func(arch string) (*rootfs.FS, error)
	// apt are the apt sources the images are built with; runtimes keeps
	// runtimes' package layers for their variants: a runtime's build hands
	// its layers over with publish (by architecture), a variant's build
	// takes its runtime's from there (runtimelayers.go).
	apt      [2]string
	runtimes *runtimeLayerMemo
	publish  map[string]func(*runtimeLayerSet)
}

// packageLayers is the number of package layers of the budget.
func (lay layering) packageLayers() int {
	budget := lay.budget
	if budget <= 0 {
		budget = layers.DefaultBudget
	}
	return budget - 1
}

// newLayering is the layering of def's image with opt's budget and cache:
// a variant's loads its runtime's lock (RuntimeLock).
func newLayering(def *spec.Definition, comp oci.Compression, opt Options) (layering, error) {
	lay := layering{budget: opt.LayerBudget, compression: comp, cache: opt.Layers, variants: def.Variant == "" && len(def.Variants) > 0}
	if lay.cache == nil {
		lay.cache = &oci.LayerCache{}
	}
	if def.Variant != "" {
		rl, err := RuntimeLock(def)
		if err != nil {
			return layering{}, err
		}
		rd, err := runtimeDefinition(def)
		if err != nil {
			return layering{}, err
		}
		lay.runtime, lay.runtimeDef = rl, rd
	}
	return lay, nil
}

// groups are the package groups of one architecture's image.
func (lay layering) groups(arch string, pkgs []spec.LockedPackage, n int) ([]layers.Group, error) {
	switch {
	case lay.runtime != nil:
		rt := lay.runtime.Architectures[arch]
		if rt == nil {
			return nil, fmt.Errorf("the runtime's lock has no %s closure", arch)
		}
		return layers.SplitVariant(rt.Packages, pkgs, n)
	case lay.variants:
		return layers.SplitRuntime(pkgs, n)
	}
	return layers.Split(pkgs, n)
}

// layers splits tree into the image's layers, bottom first: the package
// groups, then the generated files.
func (lay layering) layers(ctx context.Context, tree *rootfs.FS, arch string, pkgs []spec.LockedPackage, epoch time.Time) ([]oci.NamedLayer, error) {
	budget := lay.budget
	if budget <= 0 {
		budget = layers.DefaultBudget
	}
	if budget < 2 {
		return nil, fmt.Errorf("a layer budget of %d; an image needs at least 2 layers (packages, generated files)", budget)
	}
	if oneLayer {
		l, err := lay.cache.LayerContext(ctx, tree, epoch, lay.compression)
		if err != nil {
			return nil, err
		}
		return []oci.NamedLayer{{Layer: l, Name: "one layer (bench baseline)"}}, nil
	}
	groups, err := lay.groups(arch, pkgs, budget-1)
	if err != nil {
		return nil, err
	}
	names := groupNames(groups)
	var reused map[int]runtimeLayer
	if lay.runtime != nil && layers.Reserved(budget-1) > 0 {
		if tree, groups, names, reused, err = lay.reuseRuntime(ctx, arch, tree, groups, budget-1); err != nil {
			return nil, err
		}
	}
	trees, err := assemble.SplitTree(tree, names)
	if err != nil {
		return nil, err
	}
	publish := lay.publish[arch]
	var set *runtimeLayerSet
	if publish != nil {
		set = &runtimeLayerSet{trees: trees[:len(groups)], layers: make([]v1.Layer, len(groups))}
	}
	out := make([]oci.NamedLayer, 0, len(trees))
	for i, t := range trees {
		r := reused[i]
		if r.tree != nil {
			t = r.tree // the runtime's own layer
		}
		name, mtime := generatedLayer, epoch
		if i < len(groups) {
			name, mtime = groups[i].Name, PackageLayerTime
		}
		if t.Len() == 1 && i < len(groups) {
			continue // a group whose files hardening removed entirely
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l := r.layer // the runtime's build's, from the same tree
		if l == nil {
			if l, err = lay.cache.LayerContext(ctx, t, mtime, lay.compression); err != nil {
				return nil, err
			}
		}
		if set != nil && i < len(groups) {
			set.layers[i] = l
		}
		out = append(out, oci.NamedLayer{Layer: l, Name: name})
	}
	if publish != nil {
		publish(set)
	}
	return out, nil
}

// compression is the definition's compression, else the options'.
func compression(def *spec.Definition, opt Options) (oci.Compression, error) {
	if def.Compression != "" {
		return oci.ParseCompression(def.Compression)
	}
	c, err := oci.ParseCompression(opt.Compression)
	if err != nil {
		return "", fmt.Errorf("temper.yaml: %w", err)
	}
	return c, nil
}
