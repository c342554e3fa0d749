package assemble

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/temper-dev/temper/internal/debian/maintscript"
	"github.com/temper-dev/temper/internal/rootfs"
)

// alternatives makes the links of the postinsts' update-alternatives
// --install calls, as update-alternatives' automatic mode would: for each
// name the candidate with the highest priority (the first one on a tie)
// whose target is in the image, with its slaves whose targets are too.
func (b *builder) alternatives() error {
	type cand struct {
		maintscript.Alternative
		pkg string
	}
	best := map[string]cand{}
	var names []string
	for _, p := range b.pkgs {
		script, ok := p.control["postinst"]
		if !ok || !bytes.Contains(script, []byte("update-alternatives")) {
			continue
		}
		for _, in := range b.evaluate(p, script).Alternatives {
			if !strings.HasPrefix(in.Link, "/") || !strings.HasPrefix(in.Path, "/") {
				continue
			}
			if _, ok := b.exists(in.Path); !ok {
				continue
			}
			old, seen := best[in.Name]
			if !seen {
				names = append(names, in.Name)
			}
			if !seen || in.Priority > old.Priority {
				best[in.Name] = cand{in, p.name}
			}
		}
	}
	sort.Strings(names)
	for _, name := range names {
		c := best[name]
		if b.link(c.Link, c.Path) {
			b.report.Alternatives = append(b.report.Alternatives,
				fmt.Sprintf("%s -> %s (priority %d, %s)", strings.TrimPrefix(c.Link, "/"), c.Path, c.Priority, c.pkg))
		}
		for _, s := range c.Slaves {
			if _, ok := b.exists(s.Path); !ok || !strings.HasPrefix(s.Link, "/") {
				continue
			}
			if b.link(s.Link, s.Path) {
				b.report.Alternatives = append(b.report.Alternatives,
					fmt.Sprintf("%s -> %s (slave of %s)", strings.TrimPrefix(s.Link, "/"), s.Path, name))
			}
		}
	}
	return nil
}

// link creates the alternative link -> target, as update-alternatives
// would, without the /etc/alternatives indirection. Like it, it does not
// replace a file a package ships.
func (b *builder) link(link, target string) bool {
	l, err := rootfs.Clean(link)
	if err != nil || l == "" {
		return false
	}
	dir, base := path.Split(l)
	rdir, err := b.fs.Resolve(dir, true)
	if err != nil {
		return false
	}
	if rdir != "" {
		base = rdir + "/" + base
	}
	if old, ok := b.fs.Get(base); ok && old.Kind != rootfs.Symlink {
		return false
	}
	if b.pruned != nil && b.pruned(base) {
		return false
	}
	return b.fs.Put(&rootfs.Entry{Path: base, Kind: rootfs.Symlink, Mode: 0o777, Target: target}) == nil
}
