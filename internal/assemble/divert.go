package assemble

import (
	"bytes"
	"path"
	"strings"

	"github.com/temper-dev/temper/internal/debian/maintscript"
	"github.com/temper-dev/temper/internal/rootfs"
)

// Diversions: a package's preinst may run `dpkg-divert --add`, so that
// another package's copy of a file is installed under another name
// (postgresql-common diverts libpq-dev's /usr/bin/pg_config to
// /usr/bin/pg_config.libpq-dev, and ships its own /usr/bin/pg_config).
// dpkg honours the diversion whatever the unpacking order; so does
// temper: each preinst that mentions dpkg-divert is evaluated for a fresh
// install before any entry is placed, and entries of every package but
// the diverting one are placed at the diverted name.

// diversion is where other packages' copies of a path go.
type diversion struct {
	to     string // image path, relative like rootfs paths
	exempt string // the package whose own copy stays (empty: none, --local)
	by     string // the package whose preinst made it, for messages
}

// preinstEnv is what a package's preinst sees on a fresh install.
func (b *builder) preinstEnv(p *pkg) maintscript.Env {
	env := b.postinstEnv(p)
	env.Vars["DPKG_MAINTSCRIPT_NAME"] = "preinst"
	env.Args = []string{"install"}
	return env
}

// diversions evaluates every preinst that calls dpkg-divert and returns
// the additions by image path; the first package (in package order) to
// divert a path wins, as dpkg refuses a second diversion of it.
func (b *builder) diversions() map[string]diversion {
	div := map[string]diversion{}
	for _, p := range b.pkgs {
		script, ok := p.control["preinst"]
		if !ok || !bytes.Contains(script, []byte("dpkg-divert")) {
			continue
		}
		for _, d := range maintscript.Evaluate(string(script), b.preinstEnv(p)).Diversions {
			from, to := imagePath(d.Path), imagePath(d.To)
			if _, taken := div[from]; taken || from == "" || to == "" {
				continue
			}
			div[from] = diversion{to: to, exempt: d.Package}
		}
	}
	return div
}

// imagePath turns an absolute path from a script into the tree's form:
// relative, cleaned, with merged-/usr tops (/bin, /lib, ...) under usr/.
func imagePath(p string) string {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if top, _, _ := strings.Cut(p, "/"); top != p && isMergedTop(top) {
		p = "usr/" + p
	}
	if p == "." {
		return ""
	}
	return p
}

// divert renames e when a diversion applies to p's copy of it.
func divert(div map[string]diversion, p *pkg, e *rootfs.Entry) {
	if len(div) == 0 || e.Path == "" {
		return
	}
	if d, ok := div[imagePath(e.Path)]; ok && d.exempt != p.name {
		e.Path = d.to
	}
}
