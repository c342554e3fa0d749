package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/temper-dev/temper/internal/leftover"
)

// LoadLock reads and parses the lock at path.
//
// The leftovers of an interrupted lock write beside it
// (".NAME.lock.yaml.tmp-*") are removed first; they are never read.
func LoadLock(path string) (*Lock, error) {
	leftover.CleanMatch(filepath.Dir(path), ".*.lock.yaml.tmp-*")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read lock: %w", err)
	}
	return ParseLock(path, data)
}

// ParseLock parses and validates a lock strictly: unknown keys, wrong types
// and inconsistencies are errors reported as file:line:column. It accepts
// any YAML layout, not only the canonical one Marshal writes.
func ParseLock(name string, data []byte) (*Lock, error) {
	root, err := parseDocument(name, data, "lock")
	if err != nil {
		return nil, err
	}
	d := newDecoder(name, lockLevels)
	l := d.lock(root)
	r := &reporter{pos: d.pos}
	l.validate(r)
	if err := append(d.errs, r.errs...).err(); err != nil {
		return nil, err
	}
	return l, nil
}

func (d *decoder) lock(root *yaml.Node) *Lock {
	l := &Lock{Architectures: map[string]*LockArch{}}
	m, _ := d.mapping(root, "", "")
	if n, ok := m["definition"]; ok {
		d.lockDefinition(n, &l.Definition)
	}
	if n, ok := m["release"]; ok {
		l.Release, _ = d.str(n, "release")
	}
	if n, ok := m["suites"]; ok {
		items, _ := d.seq(n, "suites")
		for i, it := range items {
			l.Suites = append(l.Suites, d.lockSuite(it, index("suites", i)))
		}
	}
	if n, ok := m["repositories"]; ok {
		items, _ := d.seq(n, "repositories")
		for i, it := range items {
			l.Repositories = append(l.Repositories, d.lockRepository(it, index("repositories", i)))
		}
	}
	if n, ok := m["files"]; ok {
		l.Files = d.lockFiles(n)
	}
	if n, ok := m["local_debs"]; ok {
		l.LocalDebs = d.lockFilesAt(n, "local_debs")
	}
	if n, ok := m["architectures"]; ok {
		d.lockArchitectures(n, l.Architectures)
	}
	return l
}

func (d *decoder) lockDefinition(n *yaml.Node, def *LockDefinition) {
	if dm, ok := d.mapping(n, "definition", "definition"); ok {
		if v, ok := dm["file"]; ok {
			def.File, _ = d.str(v, "definition.file")
		}
		if v, ok := dm["sha256"]; ok {
			def.SHA256, _ = d.str(v, "definition.sha256")
		}
	}
}

func (d *decoder) lockSuite(it *yaml.Node, p string) LockSuite {
	var s LockSuite
	sm, _ := d.mapping(it, p, "suites[]")
	for key, v := range sm {
		switch key {
		case "name":
			s.Name, _ = d.str(v, join(p, key))
		case "inrelease_sha256":
			s.InReleaseSHA256, _ = d.str(v, join(p, key))
		case "date":
			s.Date = d.date(v, join(p, key))
		}
	}
	return s
}

func (d *decoder) lockRepository(it *yaml.Node, p string) LockRepository {
	var x LockRepository
	rm, _ := d.mapping(it, p, "repositories[]")
	for key, v := range rm {
		switch key {
		case "name":
			x.Name, _ = d.str(v, join(p, key))
		case "url":
			x.URL, _ = d.str(v, join(p, key))
		case "suite":
			x.Suite, _ = d.str(v, join(p, key))
		case "fingerprint":
			x.Fingerprint, _ = d.str(v, join(p, key))
		case "inrelease_sha256":
			x.InReleaseSHA256, _ = d.str(v, join(p, key))
		case "date":
			x.Date = d.date(v, join(p, key))
		}
	}
	return x
}

// lockArchitectures decodes the architectures: mapping into archs,
// reporting duplicate architectures.
func (d *decoder) lockArchitectures(n *yaml.Node, archs map[string]*LockArch) {
	n = deref(n)
	d.pos.vals["architectures"] = pos{n.Line, n.Column}
	if n.Kind != yaml.MappingNode {
		d.at(n, "architectures", "architectures: expected a mapping of architecture names, found %s", describe(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		ap := join("architectures", k.Value)
		if _, dup := archs[k.Value]; dup {
			d.note(k, ap, "duplicate key %q in architectures (first at line %d)", k.Value, d.pos.keys[ap].line)
			continue
		}
		d.pos.keys[ap] = pos{k.Line, k.Column}
		a := &LockArch{Packages: []LockedPackage{}}
		archs[k.Value] = a
		am, _ := d.mapping(n.Content[i+1], ap, "architectures.*")
		if pn, ok := am["packages"]; ok {
			items, _ := d.seq(pn, join(ap, "packages"))
			for j, it := range items {
				a.Packages = append(a.Packages, d.lockedPackage(it, index(join(ap, "packages"), j)))
			}
		}
	}
}

func (d *decoder) lockedPackage(n *yaml.Node, p string) LockedPackage {
	var lp LockedPackage
	m, _ := d.mapping(n, p, "architectures.*.packages[]")
	for key, v := range m {
		f := join(p, key)
		switch key {
		case "name":
			lp.Name, _ = d.str(v, f)
		case "version":
			lp.Version, _ = d.str(v, f)
		case "architecture":
			lp.Architecture, _ = d.str(v, f)
		case "source":
			lp.Source, _ = d.str(v, f)
		case "source_version":
			lp.SourceVersion, _ = d.str(v, f)
		case "suite":
			lp.Suite, _ = d.str(v, f)
		case "repository":
			lp.Repository, _ = d.str(v, f)
		case "filename":
			lp.Filename, _ = d.str(v, f)
		case "sha256":
			lp.SHA256, _ = d.str(v, f)
		case "size":
			lp.Size, _ = d.integer(v, f)
		case "installed_size":
			lp.InstalledSize, _ = d.integer(v, f)
		case "required_by":
			lp.RequiredBy = d.strList(v, f)
		}
	}
	return lp
}

// date decodes an RFC 3339 timestamp, plain or quoted.
func (d *decoder) date(n *yaml.Node, p string) time.Time {
	n = deref(n)
	d.pos.vals[p] = pos{n.Line, n.Column}
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!timestamp" || n.Tag == "!!str") {
		if t, err := time.Parse(time.RFC3339Nano, n.Value); err == nil {
			return t.UTC()
		}
	}
	d.at(n, p, "%s: expected an RFC 3339 time such as 2026-07-11T10:16:37Z, found %s", p, describe(n))
	return time.Time{}
}
