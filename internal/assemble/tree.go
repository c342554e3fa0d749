package assemble

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/temper-dev/temper/internal/rootfs"
)

// exists reports whether p (absolute or relative to the root) names an
// entry in the image, following symlinks.
func (b *builder) exists(p string) (*rootfs.Entry, bool) {
	r, err := b.fs.Resolve(p, true)
	if err != nil {
		return nil, false
	}
	e, ok := b.fs.Get(r)
	return e, ok
}

// putFile writes a root-owned file temper generates, resolving its parent
// directory inside the image.
func (b *builder) putFile(p string, mode fs.FileMode, data []byte) error {
	return b.putEntry(&rootfs.Entry{Path: p, Kind: rootfs.File, Mode: mode, Data: data})
}

func (b *builder) putEntry(e *rootfs.Entry) error {
	dir, base := path.Split(e.Path)
	rdir, err := b.fs.Resolve(dir, true)
	if err != nil {
		return fmt.Errorf("build: /%s: %w", e.Path, err)
	}
	if rdir != "" {
		base = rdir + "/" + base
	}
	e.Path = base
	if err := b.fs.Put(e); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	return nil
}

func (b *builder) empty(dir string) bool {
	prefix := dir + "/"
	for _, p := range b.fs.Paths() {
		if strings.HasPrefix(p, prefix) {
			return false
		}
	}
	return true
}

// dir makes sure p is a directory, creating it (and root-owned parents)
// with the given mode and owner; an existing directory gets them too.
func (b *builder) dir(p string, mode fs.FileMode, uid, gid int) error {
	r, err := b.fs.Resolve(p, true)
	if err != nil {
		return fmt.Errorf("build: /%s: %w", p, err)
	}
	if e, ok := b.fs.Get(r); ok {
		if e.Kind != rootfs.Dir {
			return fmt.Errorf("build: /%s: is a %s, not a directory", p, e.Kind)
		}
		e.Mode, e.UID, e.GID = mode, uid, gid
		return nil
	}
	return b.putEntry(&rootfs.Entry{Path: r, Kind: rootfs.Dir, Mode: mode, UID: uid, GID: gid})
}
