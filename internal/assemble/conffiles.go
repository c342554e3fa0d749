package assemble

import (
	"bytes"
	"fmt"

	"github.com/temper-dev/temper/internal/rootfs"
)

// conffiles installs the configuration files postinsts hand to ucf (php's
// php.ini from php.ini-production, its mods-available/*.ini): on a fresh
// install ucf copies the package's pristine file to the conffile path,
// and so does temper. A file already there (shipped by a package) is
// kept; image.files, applied later, can replace any of them.
func (b *builder) conffiles() error {
	for _, p := range b.pkgs {
		script, ok := p.control["postinst"]
		if !ok || !bytes.Contains(script, []byte("ucf")) {
			continue
		}
		for _, in := range b.evaluate(p, script).UCF {
			src, ok := b.exists(in.New)
			if !ok || src.Kind != rootfs.File {
				continue // a temporary file the script generated, or pruned
			}
			if _, ok := b.exists(in.Dest); ok {
				continue
			}
			dest, err := rootfs.Clean(in.Dest)
			if err != nil || dest == "" || b.pruned != nil && b.pruned(dest) {
				continue
			}
			if err := b.putFile(dest, 0o644, src.Data); err != nil {
				return err
			}
			b.report.Conffiles = append(b.report.Conffiles, fmt.Sprintf("%s from %s (%s)", dest, in.New, p.name))
		}
	}
	return nil
}
