package assemble

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/temper-dev/temper/internal/rootfs"
)

// files writes the definition's image.files and files: entries, replacing
// whatever a package shipped at the same path: the configuration a
// maintainer script or an entrypoint shell would otherwise have written.
// A files: entry's bytes are those the definition was loaded with, which
// the lock pins by SHA-256 (build refuses a lock that does not).
func (b *builder) files() error {
	for _, f := range b.in.Def.Image.Files {
		if err := b.writeFile("image.files", f.Path, []byte(f.Content), f.Mode, f.Owner); err != nil {
			return err
		}
	}
	for _, f := range b.in.Def.Files {
		if err := b.writeFile("files "+f.Src, f.Dest, f.Data, f.Mode, f.Owner); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) writeFile(what, path string, data []byte, fmode, owner string) error {
	p, err := rootfs.Clean(path)
	if err != nil || p == "" {
		return fmt.Errorf("build: %s: %q: not a file path in the image", what, path)
	}
	mode := fs.FileMode(0o644)
	if fmode != "" {
		m, err := strconv.ParseUint(fmode, 8, 32)
		if err != nil {
			return fmt.Errorf("build: %s: %s: mode %q: %w", what, path, fmode, err)
		}
		mode = fs.FileMode(m & 0o777)
		if m&0o4000 != 0 {
			mode |= fs.ModeSetuid
		}
		if m&0o2000 != 0 {
			mode |= fs.ModeSetgid
		}
		if m&0o1000 != 0 {
			mode |= fs.ModeSticky
		}
	}
	uid, gid := 0, 0
	if owner != "" {
		u, g, _ := strings.Cut(owner, ":")
		uid, _ = strconv.Atoi(u)
		gid, _ = strconv.Atoi(g)
	}
	if old, ok := b.fs.Get(p); ok && old.Kind == rootfs.Dir {
		return fmt.Errorf("build: %s: %s is a directory in the image", what, path)
	}
	return b.putEntry(&rootfs.Entry{Path: p, Kind: rootfs.File, Mode: mode, UID: uid, GID: gid, Data: data})
}
