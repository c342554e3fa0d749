package assemble

import (
	"slices"
	"strings"

	"github.com/temper-dev/temper/internal/debian/maintscript"
	"github.com/temper-dev/temper/internal/rootfs"
)

// postinstEnv is what a package's postinst sees on a fresh install:
// "configure" with no previous version, dpkg's variables, and the image
// for its file tests.
func (b *builder) postinstEnv(p *pkg) maintscript.Env {
	return maintscript.Env{
		Test: b.fileTest,
		Vars: map[string]string{
			"DPKG_MAINTSCRIPT_PACKAGE": p.name,
			"DPKG_MAINTSCRIPT_ARCH":    p.arch,
			"DPKG_MAINTSCRIPT_NAME":    "postinst",
			"DPKG_ROOT":                "",
		},
		Args:    []string{"configure", ""},
		Context: b.in.Context,
	}
}

// evaluate evaluates p's postinst; a script the evaluator's budgets cut
// short is reported once per package in the build's warnings.
func (b *builder) evaluate(p *pkg, script []byte) maintscript.Calls {
	c := maintscript.Evaluate(string(script), b.postinstEnv(p))
	if c.Stopped != "" {
		w := "package " + p.name + ": postinst: " + c.Stopped
		if !slices.Contains(b.report.Warnings, w) {
			b.report.Warnings = append(b.report.Warnings, w)
		}
	}
	return c
}

// fileTest answers a script's [ -e path ] and friends from the image.
func (b *builder) fileTest(op, p string) bool {
	if !strings.HasPrefix(p, "/") {
		return true // relative to an unknown working directory
	}
	if op == "-L" || op == "-h" {
		r, err := b.fs.Resolve(p, false)
		if err != nil {
			return false
		}
		e, ok := b.fs.Get(r)
		return ok && e.Kind == rootfs.Symlink
	}
	e, ok := b.exists(p)
	if !ok {
		return false
	}
	switch op {
	case "-f":
		return e.Kind == rootfs.File || e.Kind == rootfs.Hardlink
	case "-d":
		return e.Kind == rootfs.Dir
	case "-x":
		return e.Mode&0o111 != 0
	case "-s":
		return e.Kind != rootfs.File || len(e.Data) > 0
	}
	return true
}
