package spec

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/temper-dev/temper/internal/debian/version"
)

// The variant levels: a variant's own keys, and its tests with the
// definition's test levels.
func init() {
	definitionLevels["variants.*"] = level{keys: []string{"packages", "shell", "package_manager", "user", "annotations", "skip_tests", "tests"}}
	var tests []string
	for name := range definitionLevels {
		if strings.HasPrefix(name, "tests[]") {
			tests = append(tests, name)
		}
	}
	for _, name := range tests {
		definitionLevels["variants.*."+name] = definitionLevels[name]
	}
}

// Variant is an image built beside a definition's runtime image from the
// same stream: the runtime's packages plus its own, with the hardening it
// declares relaxed (docs/variants.md). Its closure keeps every package the
// runtime has at the runtime's version (internal/lock), so what is built in
// the variant runs in the runtime.
type Variant struct {
	// Name is the tag suffix: NAME:VERSION-Name (e.g. python:3.11-bookworm-dev).
	Name string
	// Packages are added to the runtime's root packages.
	Packages []Package
	// Shell keeps the shells (shell: true).
	Shell bool
	// PackageManager keeps dpkg and apt, adds apt to the packages when it
	// is not there, writes dpkg's status database and apt's sources for
	// the stream's release (hardening.allow_package_manager).
	PackageManager bool
	// User the variant runs as ("" = the runtime's). root implies
	// hardening.allow_root: the variant declares it.
	User string
	// Annotations are added to (and replace) the runtime's.
	Annotations map[string]string
	// SkipTests names runtime tests that do not apply to the variant
	// (e.g. one that prints the uid). Tests of what the variant relaxes are
	// skipped without being named (see InheritedTests).
	SkipTests []string
	// Tests are the variant's own, run after the inherited ones.
	Tests []Test
}

// variantNameRE: lowercase letters and digits, a tag suffix.
var variantNameRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,19}$`)

// AnnotationVariant names the variant on a variant image's manifests.
const AnnotationVariant = "dev.temper.variant"

// VariantLockPath is the lock file of variant name of the definition at
// defPath: NAME.yaml becomes NAME.VARIANT.lock.yaml, beside the runtime's
// NAME.lock.yaml, which stays as it was.
func VariantLockPath(defPath, name string) string {
	return strings.TrimSuffix(LockPath(defPath), ".lock.yaml") + "." + name + ".lock.yaml"
}

// VariantNames lists the definition's variants by name, in order.
func (d *Definition) VariantNames() []string {
	out := make([]string, len(d.Variants))
	for i, v := range d.Variants {
		out[i] = v.Name
	}
	return out
}

// LookupVariant finds a variant by name.
func (d *Definition) LookupVariant(name string) (*Variant, bool) {
	for i := range d.Variants {
		if d.Variants[i].Name == name {
			return &d.Variants[i], true
		}
	}
	return nil, false
}

// ForVariant derives the definition the variant is resolved, built and
// tested as: the runtime's with Version "VERSION-NAME", the variant's
// packages after the runtime's, its relaxations, user, annotations and
// tests. The result has no variants of its own; its LockPath is the
// variant's lock and its File and SHA256 are the runtime's (the lock
// records the one definition file both come from).
func (d *Definition) ForVariant(name string) (*Definition, error) {
	v, ok := d.LookupVariant(name)
	if !ok {
		if len(d.Variants) == 0 {
			return nil, fmt.Errorf("%s: no variant %q: the definition has no variants", d.File, name)
		}
		return nil, fmt.Errorf("%s: no variant %q (variants: %s)", d.File, name, strings.Join(d.VariantNames(), ", "))
	}
	c := *d
	c.Version = d.Version + "-" + v.Name
	c.Variant = v.Name
	c.Variants = nil
	c.Packages = append(slices.Clone(d.Packages), v.Packages...)
	c.Shell = d.Shell || v.Shell
	if v.PackageManager {
		c.Hardening.AllowPackageManager = true
		if !slices.ContainsFunc(c.Packages, func(p Package) bool { return p.Name == "apt" }) {
			c.Packages = append(c.Packages, Package{Name: "apt"})
		}
	}
	if v.User != "" {
		c.Image.User = v.User
		if isRootUser(v.User) {
			c.Hardening.AllowRoot = true
		}
	}
	c.Image.Annotations = maps.Clone(d.Image.Annotations)
	if c.Image.Annotations == nil {
		c.Image.Annotations = map[string]string{}
	}
	maps.Copy(c.Image.Annotations, v.Annotations)
	c.Image.Annotations[AnnotationVariant] = v.Name
	c.Tests = append(d.InheritedTests(v), v.Tests...)
	return &c, nil
}

func isRootUser(u string) bool {
	if u == "root" {
		return true
	}
	uid, _, ok := strings.Cut(u, ":")
	return ok && strings.TrimLeft(uid, "0") == ""
}

// InheritedTests are the runtime's tests that still apply to variant v:
// all but those it names in skip_tests, a path test that a shell or the
// package manager is absent when the variant keeps it, and the user part
// of a config test when the variant runs as another user.
func (d *Definition) InheritedTests(v *Variant) []Test {
	var out []Test
	for _, t := range d.Tests {
		if slices.Contains(v.SkipTests, t.Name) {
			continue
		}
		if p := t.Path; p != nil && !p.Exists {
			if (v.Shell && isShellPath(p.Path)) || (v.PackageManager && isPackageManagerPath(p.Path)) {
				continue
			}
		}
		if c := t.Config; c != nil && c.User != "" && v.User != "" {
			cc := *c
			cc.User = ""
			if cc.Entrypoint == nil && cc.Env == nil {
				continue
			}
			t.Config = &cc
		}
		out = append(out, t)
	}
	return out
}

// isShellPath: the shells internal/hardening removes, by their /bin and
// /usr/bin names (spec cannot import hardening, which imports spec).
func isShellPath(p string) bool {
	switch strings.TrimPrefix(strings.TrimPrefix(p, "/usr"), "/bin/") {
	case "sh", "bash", "dash", "rbash":
		return strings.HasPrefix(p, "/bin/") || strings.HasPrefix(p, "/usr/bin/")
	}
	return false
}

func isPackageManagerPath(p string) bool {
	base := filepath.Base(p)
	return strings.HasPrefix(base, "dpkg") || strings.HasPrefix(base, "apt") ||
		strings.HasPrefix(p, "/etc/apt") || strings.HasPrefix(p, "/var/lib/dpkg") || strings.HasPrefix(p, "/var/lib/apt")
}

// variants decodes the variants mapping: variant names to their fields.
func (d *decoder) variants(n *yaml.Node) []Variant {
	n = deref(n)
	d.pos.vals["variants"] = pos{n.Line, n.Column}
	if n.Kind != yaml.MappingNode {
		d.at(n, "variants", "variants: expected a mapping of variant names to variants (e.g. dev: {packages: [...]}), found %s", describe(n))
		return nil
	}
	var out []Variant
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.at(k, "variants", "variants: expected a variant name, found %s", describe(k))
			continue
		}
		p := join("variants", k.Value)
		if line, dup := first[k.Value]; dup {
			d.note(k, p, "duplicate variant %q (first at line %d)", k.Value, line)
			continue
		}
		first[k.Value] = k.Line
		d.pos.keys[p] = pos{k.Line, k.Column}
		out = append(out, d.variant(k.Value, v, p))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (d *decoder) variant(name string, n *yaml.Node, path string) Variant {
	v := Variant{Name: name}
	if isNull(n) {
		return v
	}
	m, ok := d.mapping(n, path, "variants.*")
	if !ok {
		return v
	}
	for key, x := range m {
		p := join(path, key)
		switch key {
		case "packages":
			for i, s := range d.strList(x, p) {
				pn, ver, pinned := strings.Cut(s, "=")
				if pinned && ver == "" {
					d.at(x.Content[i], index(p, i), "%s: %q: empty version after \"=\"; write name or name=version", index(p, i), s)
				}
				v.Packages = append(v.Packages, Package{Name: pn, Version: ver})
			}
		case "shell":
			v.Shell, _ = d.boolean(x, p)
		case "package_manager":
			v.PackageManager, _ = d.boolean(x, p)
		case "user":
			v.User, _ = d.str(x, p)
		case "annotations":
			v.Annotations = d.strMap(x, p)
		case "skip_tests":
			v.SkipTests = d.strList(x, p)
		case "tests":
			items, _ := d.seq(x, p)
			d.tests = "variants.*."
			for i, it := range items {
				v.Tests = append(v.Tests, d.test(it, index(p, i)))
			}
			d.tests = ""
		}
	}
	return v
}

// validateVariants checks each variant against the runtime: a tag-safe
// name, packages the runtime does not list already, a known user, tests
// named once across inherited and own, skip_tests naming runtime tests.
func (d *Definition) validateVariants(r *reporter) {
	known := map[string]bool{DefaultUser: true}
	for _, u := range basePasswdUsers {
		known[u] = true
	}
	for _, a := range d.Image.Accounts {
		known[a.Name] = true
	}
	roots := map[string]bool{}
	for _, p := range d.Packages {
		roots[p.Name] = true
	}
	excluded := map[string]bool{}
	for _, x := range d.Exclude {
		excluded[x] = true
	}
	runtimeTests := map[string]bool{}
	for _, t := range d.Tests {
		runtimeTests[t.Name] = true
	}
	for _, v := range d.Variants {
		vp := join("variants", v.Name)
		if !variantNameRE.MatchString(v.Name) {
			r.keyErrorf(vp, "%q is not a variant name: lowercase letters and digits, starting with a letter, at most 20 (it ends the tag, e.g. %s:%s-dev)", v.Name, d.Name, d.Version)
		} else if !streamVersionRE.MatchString(d.Version + "-" + v.Name) {
			r.keyErrorf(vp, "the tag %q is too long (at most 128 characters)", d.Version+"-"+v.Name)
		}
		if len(v.Packages) == 0 && !v.Shell && !v.PackageManager && v.User == "" {
			r.keyErrorf(vp, "the variant adds nothing to the runtime: list packages, or set shell, package_manager or user")
		}
		seen := map[string]int{}
		for i, pkg := range v.Packages {
			p := index(join(vp, "packages"), i)
			if !validPackageName(r, p, pkg.Name) {
				continue
			}
			if pkg.Version != "" {
				if _, err := version.Parse(pkg.Version); err != nil {
					r.errorf(p, "%q: bad version: %v", pkg.String(), err)
				}
			}
			switch j, dup := seen[pkg.Name]; {
			case dup:
				r.errorf(p, "duplicate package %q (also %s[%d])", pkg.Name, join(vp, "packages"), j)
			case roots[pkg.Name]:
				r.errorf(p, "%q is already one of the runtime's packages; a variant lists only what it adds", pkg.Name)
			case excluded[pkg.Name]:
				r.errorf(p, "%q is excluded by the definition (exclude applies to variants too)", pkg.Name)
			}
			seen[pkg.Name] = i
		}
		if u := v.User; u != "" && !isRootUser(u) && !uidGIDRE.MatchString(u) && !known[u] {
			r.errorf(join(vp, "user"), "unknown user %q: use root, nonroot, \"uid:gid\", a base-passwd user or one declared in image.accounts", u)
		}
		for _, k := range sortedKeys(v.Annotations) {
			if !annotationKeyRE.MatchString(k) {
				r.keyErrorf(join(join(vp, "annotations"), k), "%q is not an annotation key in reverse-domain notation (e.g. org.opencontainers.image.source)", k)
			}
		}
		for i, s := range v.SkipTests {
			if !runtimeTests[s] {
				r.errorf(index(join(vp, "skip_tests"), i), "%q is not one of the runtime's tests", s)
			}
		}
		names := map[string]string{}
		for _, t := range d.InheritedTests(&v) {
			names[t.Name] = "tests"
		}
		for i, t := range v.Tests {
			p := index(join(vp, "tests"), i)
			if t.Name != "" {
				if where, dup := names[t.Name]; dup {
					r.errorf(join(p, "name"), "duplicate test name %q (also in %s); name it differently or skip the runtime's with skip_tests", t.Name, where)
				}
				names[t.Name] = join(vp, "tests")
			}
			t.validate(r, p)
		}
	}
}
