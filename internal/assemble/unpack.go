package assemble

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"github.com/temper-dev/temper/internal/rootfs"
)

// mergedUsr are the top-level directories that are links into /usr.
var mergedUsr = []string{"bin", "sbin", "lib", "lib64", "lib32", "libx32"}

func isMergedTop(p string) bool {
	for _, d := range mergedUsr {
		if p == d {
			return true
		}
	}
	return false
}

// unpack lays every package's entries into the tree, in package order.
func (b *builder) unpack() error {
	for _, d := range []string{"bin", "sbin", "lib"} {
		if err := b.linkTop(d); err != nil {
			return err
		}
	}
	b.hardlinks = map[string]*rootfs.Entry{}
	div := b.diversions()
	for _, p := range b.pkgs {
		for _, s := range p.special {
			b.report.Warnings = append(b.report.Warnings, fmt.Sprintf("package %s: %s is a device node or fifo; images hold none, it was left out", p.name, s))
		}
		for i := range p.entries {
			e := p.entries[i]
			divert(div, p, &e)
			if err := b.place(p, &e); err != nil {
				return fmt.Errorf("build: package %s: %s: %w", p.name, "/"+e.Path, err)
			}
		}
	}
	// Links for the multilib directories whose usr/ side exists.
	for _, d := range mergedUsr[3:] {
		if _, ok := b.fs.Get("usr/" + d); !ok {
			continue
		}
		if _, ok := b.fs.Get(d); !ok {
			if err := b.fs.Put(&rootfs.Entry{Path: d, Kind: rootfs.Symlink, Mode: 0o777, Target: "usr/" + d}); err != nil {
				return err
			}
		}
	}
	return nil
}

// place puts one package entry into the tree, as dpkg would unpack it
// on a merged-/usr system.
func (b *builder) place(p *pkg, e *rootfs.Entry) error {
	if e.Path == "" {
		return nil // "./": the root's mode is temper's
	}
	if done, err := b.placeMergedTop(p, e); done || err != nil {
		return err
	}
	if err := b.resolveEntry(e); err != nil {
		return err
	}
	old, exists := b.fs.Get(e.Path)
	switch {
	case !exists:
		return b.put(e)
	case e.Kind == rootfs.Dir:
		return b.placeDir(p, e, old)
	}
	return b.overwrite(p, e, old)
}

// placeMergedTop handles an entry under a merged-/usr top directory (bin,
// lib, lib64, ...): the top itself stays the link into usr/ (done when a
// package ships that same link), anything else there is an error, and the
// link is made on the first entry under a top that has none yet.
func (b *builder) placeMergedTop(p *pkg, e *rootfs.Entry) (done bool, err error) {
	top, _, _ := strings.Cut(e.Path, "/")
	if !isMergedTop(top) {
		return false, nil
	}
	if e.Path == top {
		// The merged-/usr link itself (trixie's base-files ships them),
		// or a directory there: the link stays.
		if e.Kind == rootfs.Symlink && path.Clean(strings.TrimPrefix(e.Target, "/")) == "usr/"+top {
			if old, ok := b.fs.Get(top); ok && old.Kind == rootfs.Symlink {
				old.Package = p.name
				return true, nil
			}
		} else if e.Kind != rootfs.Dir {
			return false, fmt.Errorf("a %s where merged /usr has the link /%s -> usr/%s", e.Kind, top, top)
		}
	}
	if _, ok := b.fs.Get(top); !ok {
		return false, b.linkTop(top)
	}
	return false, nil
}

// linkTop makes the merged-/usr pair for top: the directory usr/top and
// the link top -> usr/top.
func (b *builder) linkTop(top string) error {
	if err := b.fs.Put(&rootfs.Entry{Path: "usr/" + top, Kind: rootfs.Dir, Mode: 0o755}); err != nil {
		return err
	}
	return b.fs.Put(&rootfs.Entry{Path: top, Kind: rootfs.Symlink, Mode: 0o777, Target: "usr/" + top})
}

// resolveEntry rewrites e's path with its parent directory resolved inside
// the image (a package's lib/x lands in usr/lib/x), and a hard link's
// target to the file it finally names.
func (b *builder) resolveEntry(e *rootfs.Entry) error {
	dir, base := path.Split(e.Path)
	rdir, err := b.fs.Resolve(dir, true)
	if err != nil {
		return err
	}
	if rdir == "" {
		e.Path = base
	} else {
		e.Path = rdir + "/" + base
	}
	if e.Kind != rootfs.Hardlink {
		return nil
	}
	t, err := b.fs.Resolve(e.Target, false)
	if err != nil {
		return err
	}
	target, ok := b.fs.Get(t)
	if !ok || (target.Kind != rootfs.File && target.Kind != rootfs.Hardlink) {
		return fmt.Errorf("hard link to /%s, which is not a file in the image", e.Target)
	}
	if target.Kind == rootfs.Hardlink {
		t = target.Target
	}
	e.Target = t
	return nil
}

// placeDir places a directory where an entry already is. Over a
// directory, the package that first shipped it (or temper, when it made
// it) sets its mode and owner; over a symlink to a directory, dpkg keeps
// the link. Anything else conflicts.
func (b *builder) placeDir(p *pkg, e, old *rootfs.Entry) error {
	switch old.Kind {
	case rootfs.Dir:
		if old.Package == "" || old.Package == p.name {
			old.Mode, old.UID, old.GID, old.Package = e.Mode, e.UID, e.GID, p.name
		}
		return nil
	case rootfs.Symlink:
		// dpkg keeps a symlink to a directory where a package ships a directory.
		r, err := b.fs.Resolve(e.Path, true)
		if err != nil {
			return err
		}
		if t, ok := b.fs.Get(r); !ok || t.Kind == rootfs.Dir {
			return nil
		}
	}
	return conflict(e, old)
}

// overwrite places a file, link or hard link where an entry already is:
// the same content, the package's own or an unowned entry, or Replaces
// between the two packages decide; anything else conflicts.
func (b *builder) overwrite(p *pkg, e, old *rootfs.Entry) error {
	if sameContent(old, e) || old.Package == "" || old.Package == p.name {
		if old.Kind == rootfs.Dir {
			return conflict(e, old)
		}
		if sameContent(old, e) && old.Package != "" && old.Package != p.name {
			return nil // e.g. Multi-Arch: same packages sharing a file
		}
		return b.put(e)
	}
	if old.Kind != rootfs.Dir {
		if oldPkg := b.byName[old.Package]; oldPkg != nil {
			if replaces(p, oldPkg) {
				return b.put(e)
			}
			if replaces(oldPkg, p) {
				return nil
			}
		}
	}
	return conflict(e, old)
}

func (b *builder) put(e *rootfs.Entry) error {
	if e.Kind == rootfs.Hardlink {
		t, _ := b.fs.Get(e.Target)
		b.hardlinks[e.Path] = t
	} else {
		delete(b.hardlinks, e.Path)
	}
	return b.fs.Put(e)
}

func conflict(e, old *rootfs.Entry) error {
	owner := old.Package
	if owner == "" {
		owner = "a directory other packages ship files in"
	} else {
		owner = "package " + owner
	}
	what := e.Kind.String()
	if e.Kind == old.Kind {
		what = "different " + what
	}
	return fmt.Errorf("%s ships a %s at /%s, which %s also ships (a %s); neither Replaces the other",
		e.Package, what, e.Path, owner, old.Kind)
}

func sameContent(a, b *rootfs.Entry) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case rootfs.File:
		return bytes.Equal(a.Data, b.Data)
	case rootfs.Symlink, rootfs.Hardlink:
		return a.Target == b.Target
	}
	return true
}

// replaces reports whether p's Replaces names old (at its version).
func replaces(p, old *pkg) bool {
	for _, r := range p.replaces {
		for _, alt := range r.Alternatives {
			if alt.Name == old.name && alt.SatisfiedBy(old.version) {
				return true
			}
		}
	}
	return false
}

// fixHardlinks turns hard links whose target is gone (removed by
// hardening) into files; the other links to the same target point to it.
func (b *builder) fixHardlinks() error {
	moved := map[*rootfs.Entry]string{}
	for _, p := range b.fs.Paths() {
		e, _ := b.fs.Get(p)
		if e.Kind != rootfs.Hardlink {
			continue
		}
		orig := b.hardlinks[p]
		if cur, ok := b.fs.Get(e.Target); ok && cur == orig {
			continue
		}
		if orig == nil {
			return fmt.Errorf("build: /%s: hard link to /%s, which is gone", p, e.Target)
		}
		if np, ok := moved[orig]; ok {
			e.Target = np
			continue
		}
		moved[orig] = p
		e.Kind, e.Data, e.Target = rootfs.File, orig.Data, ""
		e.Mode, e.UID, e.GID = orig.Mode, orig.UID, orig.GID
	}
	return nil
}
