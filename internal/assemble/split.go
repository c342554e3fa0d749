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
	layerOf, err := layerIndex(groups)
	if err != nil {
		return nil, err
	}
	s := &splitter{tree: tree, layerOf: layerOf, top: len(groups), out: make([]*rootfs.FS, len(groups)+1)}
	for i := range s.out {
		s.out[i] = rootfs.New()
	}
	if root, ok := tree.Get(""); ok {
		for _, t := range s.out {
			t.Put(root)
		}
	}
	paths := tree.Paths()
	for k, p := range paths {
		if p == "" {
			continue
		}
		e, _ := tree.Get(p)
		if e.Kind == rootfs.Dir && k+1 < len(paths) && strings.HasPrefix(paths[k+1], p+"/") {
			continue // written as the parent of what is below it
		}
		i, err := s.layer(e)
		if err != nil {
			return nil, err
		}
		if err := s.place(i, e); err != nil {
			return nil, err
		}
	}
	return s.out, nil
}

// layerIndex maps each package name to the index of its group.
func layerIndex(groups [][]string) (map[string]int, error) {
	layerOf := map[string]int{}
	for i, g := range groups {
		for _, name := range g {
			if _, dup := layerOf[name]; dup {
				return nil, fmt.Errorf("build: layers: package %s is in two groups", name)
			}
			layerOf[name] = i
		}
	}
	return layerOf, nil
}

// splitter places a tree's entries into the layer trees out; top is the
// index of the last, generated, layer.
type splitter struct {
	tree    *rootfs.FS
	out     []*rootfs.FS
	layerOf map[string]int
	top     int
}

// layer is the index of the layer e goes in: a hard link goes with the
// file it links to.
func (s *splitter) layer(e *rootfs.Entry) (int, error) {
	if e.Kind == rootfs.Hardlink {
		target, err := linkTarget(s.tree, e)
		if err != nil {
			return 0, err
		}
		return s.owner(target)
	}
	return s.owner(e)
}

// owner is the index of the layer of e's package; status.d files go with
// their package and other generated entries in the last layer.
func (s *splitter) owner(e *rootfs.Entry) (int, error) {
	if e.Package == "" {
		if name, ok := statusPackage(e.Path); ok {
			if i, ok := s.layerOf[name]; ok {
				return i, nil
			}
		}
		return s.top, nil
	}
	i, ok := s.layerOf[e.Package]
	if !ok {
		return 0, fmt.Errorf("build: layers: /%s: package %s is in no layer", e.Path, e.Package)
	}
	return i, nil
}

// place writes e into layer i, after its missing parents.
func (s *splitter) place(i int, e *rootfs.Entry) error {
	t := s.out[i]
	// Parents first, with the tree's metadata (rootfs.Put would make
	// missing ones 0755 root).
	if err := putParents(t, s.tree, path.Dir(e.Path)); err != nil {
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
