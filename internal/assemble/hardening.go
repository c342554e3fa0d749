package assemble

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/temper-dev/temper/internal/rootfs"
)

func (b *builder) permissions() error {
	var setuid []string
	for _, p := range b.fs.Paths() {
		e, _ := b.fs.Get(p)
		if e.Kind == rootfs.Symlink {
			continue
		}
		if !b.in.Def.Hardening.AllowSetuid && e.Kind != rootfs.Dir && e.Mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
			e.Mode &^= fs.ModeSetuid | fs.ModeSetgid
			setuid = append(setuid, p)
		}
		if e.Mode&0o002 != 0 && p != "tmp" {
			e.Mode &^= 0o002
			if e.Kind == rootfs.Dir {
				e.Mode &^= fs.ModeSticky
			}
		}
	}
	if len(setuid) > 0 {
		b.report.Removed = append(b.report.Removed, fmt.Sprintf("setuid/setgid bits (%d %s: %s)",
			len(setuid), plural(len(setuid), "file"), strings.Join(setuid, ", ")))
	}
	return nil
}

func (b *builder) writable() error {
	uid, gid, err := b.runUser()
	if err != nil {
		return err
	}
	if uid == 0 && !b.in.Def.Hardening.AllowRoot {
		return fmt.Errorf("build: image.user %q runs as root; set hardening.allow_root: true to allow it", b.in.Def.Image.User)
	}
	for _, w := range b.in.Def.Image.Writable {
		p, err := rootfs.Clean(w)
		if err != nil || p == "" {
			return fmt.Errorf("build: image.writable %q: not a directory in the image", w)
		}
		if err := b.dir(p, 0o755, uid, gid); err != nil {
			return err
		}
	}
	return nil
}
