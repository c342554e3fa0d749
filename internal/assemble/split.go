package assemble

import (
	"fmt"
	"path"
	"strings"

	"github.com/temper-dev/temper/internal/rootfs"
)

// SplitTree divides an assembled tree into layers: one tree per group of
// package names, in order, and a last tree for what the build generated
// (passwd and group, the CA bundle, alternatives links, conffiles,
// base-files' links, image.files, empty directories temper made). Applied
// in order, the trees give back the whole tree exactly:
//
//   - an entry goes where the package that shipped it (rootfs.Entry.Package)
//     is; a hard link goes with the file it links to, so that each layer's
//     links point inside it;
//   - a package's status.d files (var/lib/dpkg/status.d/NAME and
//     NAME.md5sums) go with the package: status.d stays complete in the
//     image and each package layer carries its own record, so that the
//     generated layer does not change when a package does;
//   - directories are written in every layer that has something below
//     them, with the tree's mode and owner; a directory with nothing below
//     it goes with its package, or in the last tree.
//
// A package of the tree that no group names is an error.
func SplitTree(tree *rootfs.FS, groups [][]string) ([]*rootfs.FS, error) {
	layerOf := map[string]int{}
	for i, g := range groups {
		for _, name := range g {
			if _, dup := layerOf[name]; dup {
				return nil, fmt.Errorf("build: layers: package %s is in two groups", name)
			}
			layerOf[name] = i
		}
	}
	top := len(groups)
	out := make([]*rootfs.FS, len(groups)+1)
	for i := range out {
		out[i] = rootfs.New()
	}
	if root, ok := tree.Get(""); ok {
		for _, t := range out {
			t.Put(root)
		}
	}
	owner := func(e *rootfs.Entry) (int, error) {
		if e.Package == "" {
			if name, ok := statusPackage(e.Path); ok {
				if i, ok := layerOf[name]; ok {
					return i, nil
				}
			}
			return top, nil
		}
		i, ok := layerOf[e.Package]
		if !ok {
			return 0, fmt.Errorf("build: layers: /%s: package %s is in no layer", e.Path, e.Package)
		}
		return i, nil
	}
	paths := tree.Paths()
	place := func(i int, e *rootfs.Entry) error {
		t := out[i]
		// Parents first, with the tree's metadata (rootfs.Put would make
		// missing ones 0755 root).
		if err := putParents(t, tree, path.Dir(e.Path)); err != nil {
			return err
		}
		if old, ok := t.Get(e.Path); ok && old == e {
			return nil
		}
		if err := t.Put(e); err != nil {
			return fmt.Errorf("build: layers: %w", err)
		}
		return nil
	}
	for k, p := range paths {
		if p == "" {
			continue
		}
		e, _ := tree.Get(p)
		var i int
		var err error
		switch e.Kind {
		case rootfs.Dir:
			if k+1 < len(paths) && strings.HasPrefix(paths[k+1], p+"/") {
				continue // written as the parent of what is below it
			}
			i, err = owner(e)
		case rootfs.Hardlink:
			target, terr := linkTarget(tree, e)
			if terr != nil {
				return nil, terr
			}
			i, err = owner(target)
		default:
			i, err = owner(e)
		}
		if err != nil {
			return nil, err
		}
		if err := place(i, e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// putParents writes dir and its missing ancestors into t with tree's
// metadata, topmost first.
func putParents(t, tree *rootfs.FS, dir string) error {
	var chain []string
	for d := dir; d != "." && d != ""; d = path.Dir(d) {
		if _, ok := t.Get(d); ok {
			break
		}
		chain = append(chain, d)
	}
	for k := len(chain) - 1; k >= 0; k-- {
		e, ok := tree.Get(chain[k])
		if !ok || e.Kind != rootfs.Dir {
			return fmt.Errorf("build: layers: /%s: parent is not a directory in the image", chain[k])
		}
		if err := t.Put(e); err != nil {
			return fmt.Errorf("build: layers: %w", err)
		}
	}
	return nil
}

// linkTarget is the file a hard link finally names.
func linkTarget(tree *rootfs.FS, e *rootfs.Entry) (*rootfs.Entry, error) {
	t := e
	for i := 0; t.Kind == rootfs.Hardlink; i++ {
		next, ok := tree.Get(t.Target)
		if !ok || i > 40 {
			return nil, fmt.Errorf("build: layers: /%s: hard link to /%s, which is not in the image", e.Path, e.Target)
		}
		t = next
	}
	return t, nil
}

// statusPackage names the package whose status.d record p is.
func statusPackage(p string) (string, bool) {
	name, ok := strings.CutPrefix(p, statusDir+"/")
	if !ok || strings.Contains(name, "/") {
		return "", false
	}
	return strings.TrimSuffix(name, ".md5sums"), true
}
