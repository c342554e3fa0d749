package assemble

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/temper-dev/temper/internal/rootfs"
)

// files writes the definition's image.files, replacing whatever a package
// shipped at the same path: the configuration a maintainer script or an
// entrypoint shell would otherwise have written.
func (b *builder) files() error {
	for _, f := range b.in.Def.Image.Files {
		p, err := rootfs.Clean(f.Path)
		if err != nil || p == "" {
			return fmt.Errorf("build: image.files: %q: not a file path in the image", f.Path)
		}
		mode := fs.FileMode(0o644)
		if f.Mode != "" {
			m, err := strconv.ParseUint(f.Mode, 8, 32)
			if err != nil {
				return fmt.Errorf("build: image.files: %s: mode %q: %w", f.Path, f.Mode, err)
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
		if f.Owner != "" {
			u, g, _ := strings.Cut(f.Owner, ":")
			uid, _ = strconv.Atoi(u)
			gid, _ = strconv.Atoi(g)
		}
		if old, ok := b.fs.Get(p); ok && old.Kind == rootfs.Dir {
			return fmt.Errorf("build: image.files: %s is a directory in the image", f.Path)
		}
		if err := b.putEntry(&rootfs.Entry{Path: p, Kind: rootfs.File, Mode: mode, UID: uid, GID: gid, Data: []byte(f.Content)}); err != nil {
			return err
		}
	}
	return nil
}
