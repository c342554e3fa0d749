package assemble

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/temper-dev/temper/internal/hardening"
	"github.com/temper-dev/temper/internal/rootfs"
)

// permissions takes the setuid and setgid bits off files (unless
// hardening.allow_setuid) and world-write off everything but /tmp, as
// internal/hardening declares.
func (b *builder) permissions() error {
	var setuid []string
	for _, p := range b.fs.Paths() {
		e, _ := b.fs.Get(p)
		if e.Kind == rootfs.Symlink {
			continue
		}
		if !hardening.RelaxSetuid.In(b.in.Def) && hardening.Setuid(e) {
			e.Mode &^= fs.ModeSetuid | fs.ModeSetgid
			setuid = append(setuid, p)
		}
		if hardening.WorldWritable(e) {
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

// writable refuses a root run user (unless hardening.allow_root) and
// creates the image.writable directories owned by the run user.
func (b *builder) writable() error {
	uid, gid, err := b.runUser()
	if err != nil {
		return err
	}
	if hardening.Root(uid) && !hardening.RelaxRoot.In(b.in.Def) {
		return fmt.Errorf("build: image.user %q runs as root; set %s: true to allow it", b.in.Def.Image.User, hardening.RelaxRoot.Setting)
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
