package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// LoadDefinition reads, parses and validates the definition at path.
func LoadDefinition(path string) (*Definition, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read definition: %w", err)
	}
	return ParseDefinition(path, data)
}

// ParseDefinition parses and validates a definition; name is used in error
// messages and recorded as File. All problems are reported together, one per
// line, as an ErrorList.
func ParseDefinition(name string, data []byte) (*Definition, error) {
	sum := sha256.Sum256(data)
	root, err := parseDocument(name, data, "definition")
	if err != nil {
		return nil, err
	}
	d := newDecoder(name, definitionLevels)
	def := d.definition(root)
	def.File = name
	def.SHA256 = hex.EncodeToString(sum[:])
	def.pos = d.pos
	r := &reporter{pos: d.pos}
	def.validate(r)
	if err := append(d.errs, r.errs...).err(); err != nil {
		return nil, err
	}
	def.readFiles(r)
	if def.readLocalDebs(r); len(r.errs) > 0 {
		return nil, r.errs.err()
	}
	return def, nil
}

func (d *decoder) definition(root *yaml.Node) *Definition {
	def := &Definition{Debian: Debian{Components: []string{DefaultComponent}}, Image: Image{User: DefaultUser}}
	m, _ := d.mapping(root, "", "")
	for _, key := range definitionLevels[""].keys {
		if n, ok := m[key]; ok {
			d.definitionKey(def, key, n)
		}
	}
	return def
}

// definitionKey decodes one top-level key of a definition into def.
func (d *decoder) definitionKey(def *Definition, key string, n *yaml.Node) {
	switch key {
	case "name":
		def.Name, _ = d.str(n, key)
	case "version":
		d.version(def, key, n)
	case "debian":
		d.debian(n, key, &def.Debian)
	case "architectures":
		def.Architectures = d.strList(n, key)
	case "packages":
		def.Packages = append(def.Packages, d.packages(n, key)...)
	case "recommends":
		def.Recommends, _ = d.boolean(n, key)
	case "providers":
		def.Providers = d.strMap(n, key)
	case "exclude":
		def.Exclude = d.strList(n, key)
	case "no_dependencies":
		def.NoDependencies = d.strList(n, key)
	case "repositories":
		items, _ := d.seq(n, key)
		for i, it := range items {
			def.Repositories = append(def.Repositories, d.repository(it, index(key, i)))
		}
	case "files":
		def.Files = d.sourceFiles(n, key)
	case "local_debs":
		for _, src := range d.strList(n, key) {
			def.LocalDebs = append(def.LocalDebs, LocalDeb{Src: src})
		}
	case "image":
		d.image(n, &def.Image)
	case "remove":
		def.Remove = d.strList(n, key)
	case "keep":
		def.Keep = d.strList(n, key)
	case "shell":
		def.Shell, _ = d.boolean(n, key)
	case "compression":
		def.Compression, _ = d.str(n, key)
		if def.Compression != "gzip" && def.Compression != "zstd" {
			d.at(n, key, "compression: %q: want gzip or zstd", def.Compression)
		}
	case "hardening":
		d.hardening(n, key, &def.Hardening)
	case "tests":
		items, _ := d.seq(n, key)
		def.Tests = make([]Test, 0, len(items))
		for i, it := range items {
			def.Tests = append(def.Tests, d.test(it, index(key, i)))
		}
	case "variants":
		def.Variants = d.variants(n)
	}
}

// version decodes version:, which must be a string: unquoted, YAML reads
// 3.10 as the number 3.1.
func (d *decoder) version(def *Definition, key string, n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!float" || n.Tag == "!!int") {
		d.pos.vals[key] = pos{n.Line, n.Column}
		d.at(n, key, "version: must be a string, found the number %s; quote it: version: %q (unquoted, YAML reads 3.10 as 3.1)", n.Value, n.Value)
		return
	}
	def.Version, _ = d.str(n, key)
}

func (d *decoder) debian(n *yaml.Node, key string, deb *Debian) {
	if dm, ok := d.mapping(n, key, key); ok {
		if v, ok := dm["release"]; ok {
			deb.Release, _ = d.str(v, "debian.release")
		}
		if v, ok := dm["components"]; ok {
			deb.Components = d.strList(v, "debian.components")
		}
	}
}

// packages decodes the packages: list of name or name=version.
func (d *decoder) packages(n *yaml.Node, key string) []Package {
	var pkgs []Package
	for i, s := range d.strList(n, key) {
		name, ver, pinned := strings.Cut(s, "=")
		if pinned && ver == "" {
			d.at(n.Content[i], index(key, i), "%s: %q: empty version after \"=\"; write name or name=version", index(key, i), s)
		}
		pkgs = append(pkgs, Package{Name: name, Version: ver})
	}
	return pkgs
}

func (d *decoder) hardening(n *yaml.Node, key string, h *Hardening) {
	if hm, ok := d.mapping(n, key, key); ok {
		for k, v := range hm {
			var b bool
			b, _ = d.boolean(v, join(key, k))
			switch k {
			case "allow_root":
				h.AllowRoot = b
			case "allow_setuid":
				h.AllowSetuid = b
			case "allow_package_manager":
				h.AllowPackageManager = b
			}
		}
	}
}

func (d *decoder) repository(n *yaml.Node, path string) Repository {
	var r Repository
	m, ok := d.mapping(n, path, "repositories[]")
	if !ok {
		return r
	}
	for key, v := range m {
		p := join(path, key)
		switch key {
		case "name":
			r.Name, _ = d.str(v, p)
		case "url":
			r.URL, _ = d.str(v, p)
		case "suites":
			r.Suites = d.strList(v, p)
		case "components":
			r.Components = d.strList(v, p)
		case "key":
			r.Key, _ = d.str(v, p)
		case "fingerprint":
			r.Fingerprint, _ = d.str(v, p)
		case "default_priority":
			i, _ := d.integer(v, p)
			r.DefaultPriority = clampInt(i)
		case "end_of_support":
			r.EndOfSupport = d.day(v, p)
		case "pins":
			items, _ := d.seq(v, p)
			for i, it := range items {
				pp := index(p, i)
				var pin RepositoryPin
				pm, _ := d.mapping(it, pp, "repositories[].pins[]")
				for k, pv := range pm {
					switch k {
					case "packages":
						pin.Packages = d.strList(pv, join(pp, k))
					case "priority":
						pr, _ := d.integer(pv, join(pp, k))
						pin.Priority = clampInt(pr)
					}
				}
				r.Pins = append(r.Pins, pin)
			}
		}
	}
	return r
}

func (d *decoder) image(n *yaml.Node, img *Image) {
	m, ok := d.mapping(n, "image", "image")
	if !ok {
		return
	}
	for key, v := range m {
		p := join("image", key)
		switch key {
		case "user":
			img.User, _ = d.str(v, p)
		case "accounts":
			items, _ := d.seq(v, p)
			for i, it := range items {
				img.Accounts = append(img.Accounts, d.account(it, index(p, i)))
			}
		case "entrypoint":
			img.Entrypoint = d.strList(v, p)
		case "cmd":
			img.Cmd = d.strList(v, p)
		case "env":
			img.Env = d.strMap(v, p)
		case "workdir":
			img.Workdir, _ = d.str(v, p)
		case "annotations":
			img.Annotations = d.strMap(v, p)
		case "ports":
			img.Ports = d.strList(v, p)
		case "writable":
			img.Writable = d.strList(v, p)
		case "files":
			items, _ := d.seq(v, p)
			for i, it := range items {
				img.Files = append(img.Files, d.file(it, index(p, i)))
			}
		}
	}
}

func (d *decoder) file(n *yaml.Node, path string) File {
	var f File
	m, ok := d.mapping(n, path, "image.files[]")
	if !ok {
		return f
	}
	for key, v := range m {
		p := join(path, key)
		switch key {
		case "path":
			f.Path, _ = d.str(v, p)
		case "content":
			f.Content, _ = d.str(v, p)
		case "mode":
			f.Mode, _ = d.str(v, p)
		case "owner":
			f.Owner, _ = d.str(v, p)
		}
	}
	return f
}

func (d *decoder) account(n *yaml.Node, path string) Account {
	var a Account
	m, ok := d.mapping(n, path, "image.accounts[]")
	if !ok {
		return a
	}
	for key, v := range m {
		p := join(path, key)
		switch key {
		case "name":
			a.Name, _ = d.str(v, p)
		case "uid":
			i, _ := d.integer(v, p)
			a.UID = clampInt(i)
		case "gid":
			i, _ := d.integer(v, p)
			a.GID = clampInt(i)
		case "home":
			a.Home, _ = d.str(v, p)
		case "shell":
			a.Shell, _ = d.str(v, p)
		}
	}
	return a
}

// clampInt keeps out-of-range int64 values out of range for int fields
// without overflowing, so validation still sees them as wrong.
func clampInt(i int64) int {
	const lim = 1 << 31
	if i > lim {
		return lim
	}
	if i < -lim {
		return -lim
	}
	return int(i)
}

var testKinds = []string{"path", "config", "command", "service"}

func (d *decoder) test(n *yaml.Node, path string) Test {
	var t Test
	m, ok := d.mapping(n, path, d.tests+"tests[]")
	if !ok {
		return t
	}
	var kinds []string
	for _, k := range testKinds {
		if _, ok := m[k]; ok {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) != 1 {
		what := "none"
		if len(kinds) > 1 {
			what = strings.Join(kinds, " and ")
		}
		at := n
		if len(kinds) > 1 {
			at = keyNode(n, kinds[1])
		}
		d.at(at, path, "%s: a test must have exactly one of path, config, command, service; found %s", path, what)
	}
	for key, v := range m {
		p := join(path, key)
		switch key {
		case "name":
			t.Name, _ = d.str(v, p)
		case "path":
			t.Path = d.pathTest(v, p)
		case "config":
			t.Config = d.configTest(v, p)
		case "command":
			t.Command = d.commandTest(v, p)
		case "service":
			t.Service = d.serviceTest(v, p)
		}
	}
	return t
}

// keyNode finds the key node for key in mapping n (n itself when absent).
func keyNode(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return n
}

func (d *decoder) pathTest(n *yaml.Node, path string) *PathTest {
	t := &PathTest{Exists: true}
	m, _ := d.mapping(n, path, d.tests+"tests[].path")
	for key, v := range m {
		p := join(path, key)
		switch key {
		case "path":
			t.Path, _ = d.str(v, p)
		case "exists":
			t.Exists, _ = d.boolean(v, p)
		case "mode":
			t.Mode, _ = d.str(v, p)
		case "owner":
			t.Owner, _ = d.str(v, p)
		}
	}
	return t
}

func (d *decoder) configTest(n *yaml.Node, path string) *ConfigTest {
	t := &ConfigTest{}
	m, _ := d.mapping(n, path, d.tests+"tests[].config")
	for key, v := range m {
		p := join(path, key)
		switch key {
		case "user":
			t.User, _ = d.str(v, p)
		case "entrypoint":
			t.Entrypoint = d.strList(v, p)
		case "env":
			t.Env = d.strMap(v, p)
		}
	}
	return t
}

func (d *decoder) commandTest(n *yaml.Node, path string) *CommandTest {
	t := &CommandTest{}
	m, _ := d.mapping(n, path, d.tests+"tests[].command")
	for key, v := range m {
		p := join(path, key)
		switch key {
		case "args":
			t.Args = d.strList(v, p)
		case "exit":
			i, _ := d.integer(v, p)
			t.Exit = clampInt(i)
		case "stdout":
			t.Stdout = d.match(v, p, d.tests+"tests[].command.stdout")
		case "stderr":
			t.Stderr = d.match(v, p, d.tests+"tests[].command.stderr")
		}
	}
	return t
}

func (d *decoder) match(n *yaml.Node, path, lvl string) *Match {
	t := &Match{}
	m, _ := d.mapping(n, path, lvl)
	for key, v := range m {
		p := join(path, key)
		switch key {
		case "contains":
			t.Contains, _ = d.str(v, p)
		case "regex":
			t.Regex, _ = d.str(v, p)
		}
	}
	if len(m) != 1 && !d.pos.isBad(path) {
		d.at(deref(n), path, "%s: must have exactly one of contains, regex", path)
	}
	return t
}

func (d *decoder) serviceTest(n *yaml.Node, path string) *ServiceTest {
	t := &ServiceTest{Timeout: DefaultServiceTimeout}
	m, _ := d.mapping(n, path, d.tests+"tests[].service")
	for key, v := range m {
		p := join(path, key)
		switch key {
		case "port":
			i, _ := d.integer(v, p)
			t.Port = clampInt(i)
		case "wait_command":
			t.WaitCommand = d.strList(v, p)
		case "probe":
			pm, ok := d.mapping(v, p, d.tests+"tests[].service.probe")
			if !ok {
				continue
			}
			if len(pm) != 1 {
				d.at(deref(v), p, "%s: must have exactly one of args, http", p)
			}
			for pk, pv := range pm {
				pp := join(p, pk)
				switch pk {
				case "args":
					t.Probe.Args = d.strList(pv, pp)
				case "http":
					h := &HTTPProbe{Status: DefaultHTTPStatus}
					hm, _ := d.mapping(pv, pp, d.tests+"tests[].service.probe.http")
					for hk, hv := range hm {
						switch hk {
						case "path":
							h.Path, _ = d.str(hv, join(pp, hk))
						case "status":
							i, _ := d.integer(hv, join(pp, hk))
							h.Status = clampInt(i)
						}
					}
					t.Probe.HTTP = h
				}
			}
		case "timeout":
			s, ok := d.str(v, p)
			if !ok {
				continue
			}
			dur, err := time.ParseDuration(s)
			if err != nil {
				d.at(deref(v), p, "%s: %q is not a duration; write e.g. \"30s\" or \"2m\"", p, s)
				continue
			}
			t.Timeout = dur
		}
	}
	return t
}
