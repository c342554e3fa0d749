package assemble

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"

	"github.com/temper-dev/temper/internal/rootfs"
)

var releaseVersions = map[string]string{
	"buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14", "duke": "15",
}

func (b *builder) baseFiles() error {
	// /run, /run/lock and the /var links base-files' postinst makes.
	for _, d := range []struct {
		p    string
		mode fs.FileMode
	}{{"run", 0o755}, {"run/lock", 0o755}, {"tmp", 0o777 | fs.ModeSticky}, {"var", 0o755}, {"root", 0o700}} {
		if err := b.dir(d.p, d.mode, 0, 0); err != nil {
			return err
		}
	}
	for _, l := range []struct{ p, target string }{{"var/run", "/run"}, {"var/lock", "/run/lock"}, {"var/tmp", "/tmp"}} {
		if e, ok := b.fs.Get(l.p); ok {
			if e.Kind == rootfs.Symlink {
				continue
			}
			if e.Kind == rootfs.Dir && b.empty(l.p) {
				b.fs.Remove(l.p)
			} else {
				continue // a package put something there: leave it
			}
		}
		if err := b.fs.Put(&rootfs.Entry{Path: l.p, Kind: rootfs.Symlink, Mode: 0o777, Target: l.target}); err != nil {
			return fmt.Errorf("build: /%s: %w", l.p, err)
		}
	}
	if !b.has("base-files") {
		if _, ok := b.exists("usr/lib/os-release"); !ok {
			if err := b.putFile("usr/lib/os-release", 0o644, osRelease(b.in.Release)); err != nil {
				return err
			}
		}
		if _, ok := b.fs.Get("etc/os-release"); !ok {
			if err := b.putEntry(&rootfs.Entry{Path: "etc/os-release", Kind: rootfs.Symlink, Mode: 0o777, Target: "../usr/lib/os-release"}); err != nil {
				return err
			}
		}
	}
	// nsswitch.conf: base-files' postinst installs its default copy.
	if _, ok := b.exists("etc/nsswitch.conf"); !ok {
		data := []byte(defaultNsswitch)
		if e, ok := b.exists("usr/share/base-files/nsswitch.conf"); ok && e.Kind == rootfs.File {
			data = e.Data
		}
		if err := b.putFile("etc/nsswitch.conf", 0o644, data); err != nil {
			return err
		}
	}
	if w := b.in.Def.Image.Workdir; w != "" {
		if _, ok := b.exists(w); !ok {
			if err := b.dir(strings.TrimPrefix(w, "/"), 0o755, 0, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

const defaultNsswitch = `passwd:         files
group:          files
shadow:         files
gshadow:        files

hosts:          files dns
networks:       files

protocols:      files
services:       files
ethers:         files
rpc:            files
`

func osRelease(release string) []byte {
	var buf bytes.Buffer
	v := releaseVersions[release]
	if v != "" {
		fmt.Fprintf(&buf, "PRETTY_NAME=\"Debian GNU/Linux %s (%s)\"\n", v, release)
	} else {
		fmt.Fprintf(&buf, "PRETTY_NAME=\"Debian GNU/Linux %s\"\n", release)
	}
	buf.WriteString("NAME=\"Debian GNU/Linux\"\n")
	if v != "" {
		fmt.Fprintf(&buf, "VERSION_ID=\"%s\"\nVERSION=\"%s (%s)\"\n", v, v, release)
	}
	fmt.Fprintf(&buf, "VERSION_CODENAME=%s\nID=debian\n", release)
	return buf.Bytes()
}
