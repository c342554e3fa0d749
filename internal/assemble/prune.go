package assemble

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/temper-dev/temper/internal/rootfs"
)

// pattern is a path glob in the image: path.Match semantics on the whole
// path ('*' never crosses '/'), a trailing "/**" for a whole subtree. A
// removal pattern that matches a directory removes its subtree.
type pattern struct {
	glob    string // without the "/**" suffix
	subtree bool   // "dir/**": the directory and everything below it
	literal bool
	depth   int // number of components of glob
}

func newPattern(s string) (pattern, error) {
	s = strings.TrimPrefix(s, "/")
	p := pattern{}
	if rest, ok := strings.CutSuffix(s, "/**"); ok {
		s, p.subtree = rest, true
	}
	if s == "" || s == "**" {
		return p, fmt.Errorf("%q: the whole root cannot be matched", "/"+s)
	}
	if _, err := path.Match(s, ""); err != nil {
		return p, fmt.Errorf("%q: %w", "/"+s, err)
	}
	p.glob = s
	p.literal = !strings.ContainsAny(s, `*?[\`)
	p.depth = strings.Count(s, "/") + 1
	return p, nil
}

// matchSelf reports whether the pattern matches p itself.
func (pt pattern) matchSelf(p string) bool {
	if pt.literal {
		return p == pt.glob
	}
	ok, _ := path.Match(pt.glob, p)
	return ok
}

// matchTree reports whether the pattern matches p or one of its ancestors.
func (pt pattern) matchTree(p string) bool {
	if pt.literal {
		return p == pt.glob || strings.HasPrefix(p, pt.glob) && len(p) > len(pt.glob) && p[len(pt.glob)] == '/'
	}
	// Only the ancestor with as many components as the glob can match.
	i, n := 0, 0
	for i < len(p) {
		j := strings.IndexByte(p[i:], '/')
		n++
		if j < 0 {
			i = len(p)
			break
		}
		if n == pt.depth {
			i += j
			break
		}
		i += j + 1
	}
	if n != pt.depth {
		return false
	}
	return pt.matchSelf(p[:i])
}

// keeps reports whether a keep pattern keeps p: exactly, or within a
// "dir/**" subtree.
func (pt pattern) keeps(p string) bool {
	if pt.subtree {
		return pt.matchTree(p)
	}
	return pt.matchSelf(p)
}

func compile(list []string, what string) ([]pattern, error) {
	out := make([]pattern, 0, len(list))
	for _, s := range list {
		p, err := newPattern(s)
		if err != nil {
			return nil, fmt.Errorf("build: %s: %w", what, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Default removals: documentation and translations. usr/share/doc/*/copyright
// stays for license compliance.
var docPaths = []string{
	"usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
	"usr/share/lintian", "usr/share/linda",
}

// Package manager paths removed unless hardening.allow_package_manager.
var packageManagerPaths = []string{
	"usr/bin/dpkg*", "usr/bin/apt*", "usr/sbin/dpkg*", "usr/lib/apt", "usr/lib/dpkg",
	"etc/apt", "var/lib/apt", "var/cache/apt", "var/log/apt",
}

// Shells removed unless the definition sets shell: true.
var shellPaths = []string{"usr/bin/sh", "usr/bin/bash", "usr/bin/dash", "usr/bin/rbash"}

type rule struct {
	label    string
	pat      pattern
	keepable bool // definition.keep and the copyright exception apply
	shell    bool // matches shells and links to them
	count    int
}

// prune removes what the hardening defaults and definition.remove name.
func (b *builder) prune() error {
	d := b.in.Def
	keep, err := compile(d.Keep, "keep")
	if err != nil {
		return err
	}
	keep = append(keep, pattern{glob: "usr/share/doc/*/copyright", depth: 4})
	var rules []*rule
	add := func(list []string, keepable bool, what string) error {
		pats, err := compile(list, what)
		if err != nil {
			return err
		}
		for i, p := range pats {
			rules = append(rules, &rule{label: strings.TrimPrefix(list[i], "/"), pat: p, keepable: keepable})
		}
		return nil
	}
	if err := add(docPaths, true, "docs"); err != nil {
		return err
	}
	if !d.Hardening.AllowPackageManager {
		if err := add(packageManagerPaths, false, "package manager"); err != nil {
			return err
		}
	}
	if err := add(d.Remove, true, "remove"); err != nil {
		return err
	}
	shells := map[string]bool{}
	if !d.Shell {
		for _, s := range shellPaths {
			shells[s] = true
		}
		rules = append(rules, &rule{label: "shell", shell: true})
	}

	kept := func(p string, e *rootfs.Entry) bool {
		for _, k := range keep {
			if k.keeps(p) {
				return true
			}
		}
		// usr/share/doc/<pkg> links lead to the copyright of the package
		// they point to.
		return e.Kind == rootfs.Symlink && strings.HasPrefix(p, "usr/share/doc/") && strings.Count(p, "/") == 3
	}
	isShell := func(p string, e *rootfs.Entry) bool {
		if shells[p] {
			return true
		}
		switch e.Kind {
		case rootfs.Symlink:
			r, err := b.fs.Resolve(p, true)
			return err == nil && shells[r]
		case rootfs.Hardlink:
			return shells[e.Target]
		}
		return false
	}
	match := func(p string, e *rootfs.Entry) *rule {
		for _, r := range rules {
			if r.shell {
				if isShell(p, e) {
					return r
				}
				continue
			}
			if r.pat.matchTree(p) && !(r.keepable && kept(p, e)) {
				return r
			}
		}
		return nil
	}

	b.pruned = func(p string) bool { return match(p, &rootfs.Entry{Path: p, Kind: rootfs.Symlink}) != nil }

	// Decide on files first; a directory goes only when nothing below it stays.
	gone := map[string]*rule{}
	needed := map[string]bool{}
	for _, p := range b.fs.Paths() {
		e, _ := b.fs.Get(p)
		if e.Kind == rootfs.Dir {
			if match(p, e) == nil {
				markParents(needed, p)
			}
			continue
		}
		if r := match(p, e); r != nil {
			gone[p] = r
			r.count++
			continue
		}
		markParents(needed, p)
	}
	b.fs.RemoveFunc(func(e *rootfs.Entry) bool {
		if e.Kind != rootfs.Dir {
			return gone[e.Path] != nil
		}
		return !needed[e.Path] && match(e.Path, e) != nil
	})
	for _, r := range rules {
		if r.count == 0 {
			continue
		}
		if r.shell {
			var list []string
			for p, g := range gone {
				if g == r {
					list = append(list, p)
				}
			}
			sort.Strings(list)
			for _, p := range list {
				b.report.Removed = append(b.report.Removed, p+" (shell)")
			}
			continue
		}
		b.report.Removed = append(b.report.Removed, fmt.Sprintf("%s (%d %s)", r.label, r.count, plural(r.count, "file")))
	}
	return nil
}

// markParents marks p and every ancestor of p as needed.
func markParents(needed map[string]bool, p string) {
	for p != "" && p != "." && !needed[p] {
		needed[p] = true
		p = path.Dir(p)
	}
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}
