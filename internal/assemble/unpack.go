package assemble

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"strings"
	"sync"

	"github.com/temper-dev/temper/internal/debian/deb"
	"github.com/temper-dev/temper/internal/debian/deb822"
	"github.com/temper-dev/temper/internal/debian/relation"
	"github.com/temper-dev/temper/internal/rootfs"
)

// pkg is a .deb read into memory: its control files and data entries.
type pkg struct {
	name, version, arch string
	control             map[string][]byte
	replaces            relation.Relations
	entries             []rootfs.Entry // Path as in data.tar (cleaned), Target raw
}

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

// readAll opens and reads every .deb, in parallel; the tree is built from
// the result in package order afterwards.
func readAll(debs []Deb, arch string) ([]*pkg, error) {
	out := make([]*pkg, len(debs))
	errs := make([]error, len(debs))
	work := make(chan int)
	var wg sync.WaitGroup
	n := min(runtime.GOMAXPROCS(0), len(debs))
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out[i], errs[i] = readDeb(debs[i])
			}
		}()
	}
	for i := range debs {
		work <- i
	}
	close(work)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func debName(lp Deb) string {
	if lp.Package.Filename != "" {
		return path.Base(lp.Package.Filename)
	}
	return fmt.Sprintf("%s_%s_%s.deb", lp.Package.Name, lp.Package.Version, lp.Package.Architecture)
}

func readDeb(d Deb) (*pkg, error) {
	lp := d.Package
	id := fmt.Sprintf("%s %s (%s)", lp.Name, lp.Version, lp.Architecture)
	f, err := deb.Open(debName(d), d.Data)
	if err != nil {
		return nil, fmt.Errorf("build: package %s: %w", id, err)
	}
	ctrl, err := f.Control()
	if err != nil {
		return nil, fmt.Errorf("build: package %s: %w", id, err)
	}
	sc := deb822.NewBytesScanner(ctrl["control"])
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("build: package %s: control: %w", id, err)
		}
		return nil, fmt.Errorf("build: package %s: empty control file", id)
	}
	st := sc.Stanza()
	p := &pkg{
		name:    st.GetString("Package"),
		version: st.GetString("Version"),
		arch:    st.GetString("Architecture"),
		control: ctrl,
	}
	if p.name != lp.Name || p.version != lp.Version || p.arch != lp.Architecture {
		return nil, fmt.Errorf("build: package %s: the .deb is %s %s (%s), not what the lock names",
			id, p.name, p.version, p.arch)
	}
	if r := st.GetString("Replaces"); r != "" {
		if p.replaces, err = relation.Parse(r); err != nil {
			return nil, fmt.Errorf("build: package %s: Replaces: %w", id, err)
		}
	}
	err = f.Walk(func(hdr *tar.Header, r io.Reader) error {
		name, err := rootfs.Clean(hdr.Name)
		if err != nil {
			return fmt.Errorf("build: package %s: %s: %w", id, hdr.Name, err)
		}
		e := rootfs.Entry{Path: name, Mode: tarMode(hdr.Mode), UID: hdr.Uid, GID: hdr.Gid, Package: p.name}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			e.Kind = rootfs.File
			e.Data = make([]byte, hdr.Size)
			if _, err := io.ReadFull(r, e.Data); err != nil {
				return fmt.Errorf("build: package %s: %s: %w", id, hdr.Name, err)
			}
		case tar.TypeDir:
			e.Kind = rootfs.Dir
		case tar.TypeSymlink:
			e.Kind = rootfs.Symlink
			e.Target = hdr.Linkname
		case tar.TypeLink:
			e.Kind = rootfs.Hardlink
			t, err := rootfs.Clean(hdr.Linkname)
			if err != nil {
				return fmt.Errorf("build: package %s: %s: hard link to %s: %w", id, hdr.Name, hdr.Linkname, err)
			}
			e.Target = t
		default:
			return nil // devices and fifos have no place in an image
		}
		p.entries = append(p.entries, e)
		return nil
	})
	if err != nil {
		if strings.HasPrefix(err.Error(), "build: ") {
			return nil, err
		}
		return nil, fmt.Errorf("build: package %s: %w", id, err)
	}
	return p, nil
}

func tarMode(m int64) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// unpack lays every package's entries into the tree, in package order.
func (b *builder) unpack() error {
	for _, d := range []string{"bin", "sbin", "lib"} {
		if err := b.fs.Put(&rootfs.Entry{Path: "usr/" + d, Kind: rootfs.Dir, Mode: 0o755}); err != nil {
			return err
		}
		if err := b.fs.Put(&rootfs.Entry{Path: d, Kind: rootfs.Symlink, Mode: 0o777, Target: "usr/" + d}); err != nil {
			return err
		}
	}
	b.hardlinks = map[string]*rootfs.Entry{}
	for _, p := range b.pkgs {
		for i := range p.entries {
			e := p.entries[i]
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

// place puts one package entry into the tree.
func (b *builder) place(p *pkg, e *rootfs.Entry) error {
	if e.Path == "" {
		return nil // "./": the root's mode is temper's
	}
	top, _, _ := strings.Cut(e.Path, "/")
	if isMergedTop(top) {
		if e.Path == top {
			// The merged-/usr link itself (trixie's base-files ships them),
			// or a directory there: the link stays.
			if e.Kind == rootfs.Symlink && path.Clean(strings.TrimPrefix(e.Target, "/")) == "usr/"+top {
				if old, ok := b.fs.Get(top); ok && old.Kind == rootfs.Symlink {
					old.Package = p.name
					return nil
				}
			} else if e.Kind != rootfs.Dir {
				return fmt.Errorf("a %s where merged /usr has the link /%s -> usr/%s", e.Kind, top, top)
			}
		}
		if _, ok := b.fs.Get(top); !ok {
			if err := b.fs.Put(&rootfs.Entry{Path: "usr/" + top, Kind: rootfs.Dir, Mode: 0o755}); err != nil {
				return err
			}
			if err := b.fs.Put(&rootfs.Entry{Path: top, Kind: rootfs.Symlink, Mode: 0o777, Target: "usr/" + top}); err != nil {
				return err
			}
		}
	}
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
	if e.Kind == rootfs.Hardlink {
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
	}
	old, exists := b.fs.Get(e.Path)
	if !exists {
		return b.put(e)
	}
	if e.Kind == rootfs.Dir {
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
