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

// diversions evaluates every preinst and postinst that calls
// dpkg-divert and returns the diversions still in place after a fresh
// install, by image path: the first package (in package order) to divert
// a path wins, as dpkg refuses a second diversion of it, and a diversion
// a postinst removes again (trixie's /usr-merge transition does this)
// does not count.
func (b *builder) diversions() map[string]diversion {
	div := map[string]diversion{}
	removed := map[string]bool{}
	for _, p := range b.pkgs {
		for _, c := range b.divertCalls(p) {
			from, to := imagePath(c.Path), imagePath(c.To)
			if from == "" || to == "" {
				continue
			}
			if c.Remove {
				removed[from] = true
			} else if _, taken := div[from]; !taken {
				div[from] = diversion{to: to, exempt: c.Package}
			}
		}
	}
	for p := range removed {
		delete(div, p)
	}
	return div
}

// divertCalls are p's dpkg-divert calls on a fresh install: its preinst
// ("install"), then its postinst ("configure").
func (b *builder) divertCalls(p *pkg) []maintscript.Diversion {
	var calls []maintscript.Diversion
	for _, s := range []struct {
		name string
		env  maintscript.Env
	}{{"preinst", b.preinstEnv(p)}, {"postinst", b.postinstEnv(p)}} {
		script, ok := p.control[s.name]
		if ok && bytes.Contains(script, []byte("dpkg-divert")) {
			calls = append(calls, maintscript.Evaluate(string(script), s.env).Diversions...)
		}
	}
	return calls
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
	if e.Kind == rootfs.Dir {
		return // dpkg diverts files, never directories
	}
	if d, ok := div[imagePath(e.Path)]; ok && d.exempt != p.name {
		e.Path = d.to
	}
}
