package assemble

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/temper-dev/temper/internal/hardening"
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

type rule struct {
	label    string
	pat      pattern
	keepable bool // definition.keep and the copyright exception apply
	shell    bool // matches shells and links to them
	count    int
}

// pruner decides what one build removes: documentation, the package
// manager and shells (the hardening defaults, internal/hardening) and
// definition.remove, less definition.keep.
type pruner struct {
	b      *builder
	keep   []pattern
	rules  []*rule
	shells map[string]bool // the shells' files, when shells go
}

// prune removes what the hardening defaults and definition.remove name.
func (b *builder) prune() error {
	pr, err := b.newPruner()
	if err != nil {
		return err
	}
	b.pruned = func(p string) bool { return pr.match(p, &rootfs.Entry{Path: p, Kind: rootfs.Symlink}) != nil }
	pr.report(pr.remove())
	return nil
}

// newPruner compiles the definition's keep and the removal rules, in the
// order the report lists them.
func (b *builder) newPruner() (*pruner, error) {
	d := b.in.Def
	keep, err := compile(d.Keep, "keep")
	if err != nil {
		return nil, err
	}
	pr := &pruner{b: b, keep: append(keep, pattern{glob: "usr/share/doc/*/copyright", depth: 4}), shells: map[string]bool{}}
	if err := pr.add(docPaths, true, "docs"); err != nil {
		return nil, err
	}
	if !hardening.RelaxPackageManager.In(d) {
		if err := pr.add(hardening.PackageManagerPaths, false, "package manager"); err != nil {
			return nil, err
		}
	}
	if err := pr.add(d.Remove, true, "remove"); err != nil {
		return nil, err
	}
	if !hardening.RelaxShell.In(d) {
		for _, s := range hardening.ShellFiles() {
			pr.shells[s] = true
		}
		pr.rules = append(pr.rules, &rule{label: "shell", shell: true})
	}
	return pr, nil
}

func (pr *pruner) add(list []string, keepable bool, what string) error {
	pats, err := compile(list, what)
	if err != nil {
		return err
	}
	for i, p := range pats {
		pr.rules = append(pr.rules, &rule{label: strings.TrimPrefix(list[i], "/"), pat: p, keepable: keepable})
	}
	return nil
}

// kept reports whether definition.keep or the copyright exception keeps p.
func (pr *pruner) kept(p string, e *rootfs.Entry) bool {
	for _, k := range pr.keep {
		if k.keeps(p) {
			return true
		}
	}
	// usr/share/doc/<pkg> links lead to the copyright of the package
	// they point to.
	return e.Kind == rootfs.Symlink && strings.HasPrefix(p, "usr/share/doc/") && strings.Count(p, "/") == 3
}

// isShell reports whether p is a shell or a link to one (in the tree as
// it is now: alternatives ask after the removal).
func (pr *pruner) isShell(p string, e *rootfs.Entry) bool {
	if pr.shells[p] {
		return true
	}
	switch e.Kind {
	case rootfs.Symlink:
		r, err := pr.b.fs.Resolve(p, true)
		return err == nil && pr.shells[r]
	case rootfs.Hardlink:
		return pr.shells[e.Target]
	}
	return false
}

// match returns the first rule that removes p, or nil.
func (pr *pruner) match(p string, e *rootfs.Entry) *rule {
	for _, r := range pr.rules {
		if r.shell {
			if pr.isShell(p, e) {
				return r
			}
			continue
		}
		if r.pat.matchTree(p) && !(r.keepable && pr.kept(p, e)) {
			return r
		}
	}
	return nil
}

// remove removes what the rules match and returns the removed files with
// the rule that removed each. Files are decided first; a directory goes
// only when nothing below it stays.
func (pr *pruner) remove() map[string]*rule {
	fsys := pr.b.fs
	gone := map[string]*rule{}
	needed := map[string]bool{}
	for _, p := range fsys.Paths() {
		e, _ := fsys.Get(p)
		if e.Kind == rootfs.Dir {
			if pr.match(p, e) == nil {
				markParents(needed, p)
			}
			continue
		}
		if r := pr.match(p, e); r != nil {
			gone[p] = r
			r.count++
			continue
		}
		markParents(needed, p)
	}
	fsys.RemoveFunc(func(e *rootfs.Entry) bool {
		if e.Kind != rootfs.Dir {
			return gone[e.Path] != nil
		}
		return !needed[e.Path] && pr.match(e.Path, e) != nil
	})
	return gone
}

// report lists the removals: a count per rule, each shell by its path.
func (pr *pruner) report(gone map[string]*rule) {
	b := pr.b
	for _, r := range pr.rules {
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
