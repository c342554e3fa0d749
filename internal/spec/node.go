package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// level is one mapping in a document: the keys it may hold, in the order the
// documentation lists them, and those it must hold.
type level struct {
	keys     []string
	required []string
}

// definitionLevels is every mapping a definition may contain, by level name:
// the field path with list indices written as "[]". The loader uses exactly
// these keys, and a test checks docs/definition.schema.json against them.
var definitionLevels = map[string]level{
	"": {
		keys:     []string{"name", "version", "debian", "architectures", "packages", "recommends", "providers", "exclude", "no_dependencies", "repositories", "files", "local_debs", "image", "remove", "keep", "shell", "hardening", "tests", "compression", "variants"},
		required: []string{"name", "version", "debian", "architectures", "packages"},
	},
	"debian":                     {keys: []string{"release", "components"}, required: []string{"release"}},
	"repositories[]":             {keys: []string{"name", "url", "suites", "components", "key", "fingerprint", "pins", "default_priority", "end_of_support"}, required: []string{"name", "url", "suites", "key", "fingerprint"}},
	"repositories[].pins[]":      {keys: []string{"packages", "priority"}, required: []string{"packages", "priority"}},
	"image":                      {keys: []string{"user", "accounts", "entrypoint", "cmd", "env", "workdir", "annotations", "ports", "writable", "files"}},
	"files[]":                    {keys: []string{"src", "dest", "mode", "owner"}, required: []string{"src", "dest"}},
	"image.files[]":              {keys: []string{"path", "content", "mode", "owner"}, required: []string{"path", "content"}},
	"image.accounts[]":           {keys: []string{"name", "uid", "gid", "home", "shell"}, required: []string{"name", "uid", "gid", "home"}},
	"hardening":                  {keys: []string{"allow_root", "allow_setuid", "allow_package_manager"}},
	"tests[]":                    {keys: []string{"name", "path", "config", "command", "service"}, required: []string{"name"}},
	"tests[].path":               {keys: []string{"path", "exists", "mode", "owner"}, required: []string{"path"}},
	"tests[].config":             {keys: []string{"user", "entrypoint", "env"}},
	"tests[].command":            {keys: []string{"args", "exit", "stdout", "stderr"}, required: []string{"args"}},
	"tests[].command.stdout":     {keys: []string{"contains", "regex"}},
	"tests[].command.stderr":     {keys: []string{"contains", "regex"}},
	"tests[].service":            {keys: []string{"port", "wait_command", "probe", "timeout"}, required: []string{"port", "probe"}},
	"tests[].service.probe":      {keys: []string{"args", "http"}},
	"tests[].service.probe.http": {keys: []string{"path", "status"}, required: []string{"path"}},
}

// lockLevels is every mapping a lock contains.
var lockLevels = map[string]level{
	"": {
		keys:     []string{"definition", "release", "suites", "repositories", "files", "local_debs", "architectures"},
		required: []string{"definition", "release", "suites", "architectures"},
	},
	"repositories[]":  {keys: []string{"name", "url", "suite", "fingerprint", "inrelease_sha256", "date"}, required: []string{"name", "url", "suite", "fingerprint", "inrelease_sha256", "date"}},
	"files[]":         {keys: []string{"src", "sha256", "size"}, required: []string{"src", "sha256", "size"}},
	"local_debs[]":    {keys: []string{"src", "sha256", "size"}, required: []string{"src", "sha256", "size"}},
	"definition":      {keys: []string{"file", "sha256"}, required: []string{"file", "sha256"}},
	"suites[]":        {keys: []string{"name", "inrelease_sha256", "date"}, required: []string{"name", "inrelease_sha256", "date"}},
	"architectures.*": {keys: []string{"packages"}, required: []string{"packages"}},
	"architectures.*.packages[]": {
		keys:     []string{"name", "version", "architecture", "source", "source_version", "suite", "repository", "filename", "sha256", "size", "installed_size", "required_by"},
		required: []string{"name", "version", "architecture", "source", "source_version", "suite", "filename", "sha256", "size", "installed_size", "required_by"},
	},
}

// decoder walks a yaml.Node tree, recording positions and reporting
// structural problems: unknown, duplicate and missing keys, wrong types.
type decoder struct {
	levels map[string]level
	// tests is the level prefix of the tests being decoded: "" for the
	// definition's, "variants.*." for a variant's.
	tests string
	pos   *positions
	errs  ErrorList
}

func newDecoder(file string, levels map[string]level) *decoder {
	return &decoder{levels: levels, pos: newPositions(file)}
}

func (d *decoder) at(n *yaml.Node, path string, format string, args ...any) {
	d.pos.bad[path] = true
	d.note(n, path, format, args...)
}

// note reports a problem without marking path as bad, for problems that do
// not make the decoded value wrong (a duplicate key is ignored).
func (d *decoder) note(n *yaml.Node, path string, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.pos.file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// parseDocument reads exactly one YAML document whose top level is a
// mapping, and returns that mapping.
func parseDocument(file string, data []byte, what string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: fmt.Sprintf("file is empty: expected a %s (a YAML mapping of keys such as %s)", what, exampleKeys(what))}
		}
		return nil, yamlSyntaxError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Line: extra.Line, Column: extra.Column, Msg: fmt.Sprintf("a second YAML document (---) in the file: a file holds exactly one %s", what)}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlSyntaxError(file, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	root = deref(root)
	switch {
	case root.Kind == yaml.ScalarNode && root.Tag == "!!null":
		return nil, &Error{File: file, Line: root.Line, Column: root.Column, Msg: fmt.Sprintf("file is empty: expected a %s (a YAML mapping of keys such as %s)", what, exampleKeys(what))}
	case root.Kind != yaml.MappingNode:
		return nil, &Error{File: file, Line: root.Line, Column: root.Column, Msg: fmt.Sprintf("the top level must be a mapping of keys such as %s, found %s", exampleKeys(what), describe(root))}
	}
	return root, nil
}

func exampleKeys(what string) string {
	if what == "lock" {
		return "definition, release, suites, architectures"
	}
	return "name, version, debian, architectures, packages"
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlParserProblems are the messages of yaml.v3's parser (parserc.go), as
// opposed to its scanner: their line numbers come out 0-based.
var yamlParserProblems = map[string]bool{
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found undefined tag handle":             true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// yamlSyntaxError turns "yaml: line 3: did not find expected key" into
// "file:3: did not find expected key".
func yamlSyntaxError(file string, err error) error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if yamlParserProblems[m[2]] {
			// yaml.v3 prints a parser error's 0-based mark as is (it adds
			// one for scanner errors only): line 5 came out as line 4.
			line++
		}
		return &Error{File: file, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// describe names what a node is, for "expected X, found Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing (null)"
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		case "!!str":
			return strconv.Quote(n.Value)
		case "!!timestamp":
			return "the timestamp " + n.Value
		}
		return n.Value
	}
	return "something else"
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func where(path string) string {
	if path == "" {
		return "at the top level"
	}
	return "in " + path
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// mapping checks that n is a mapping holding only the keys of the level,
// each once, and all the required ones. It returns the value of each key
// present; keys whose value is null are treated as absent.
func (d *decoder) mapping(n *yaml.Node, path, lvl string) (map[string]*yaml.Node, bool) {
	n = deref(n)
	l, ok := d.levels[lvl]
	if !ok {
		panic("spec: no level " + strconv.Quote(lvl))
	}
	d.pos.vals[path] = pos{n.Line, n.Column}
	if n.Kind != yaml.MappingNode {
		d.at(n, path, "%s: expected a mapping with keys %s, found %s", nameOf(path), strings.Join(l.keys, ", "), describe(n))
		return nil, false
	}
	out := map[string]*yaml.Node{}
	first := map[string]*yaml.Node{}
	suggested := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.at(k, path, "expected a key name %s, found %s", where(path), describe(k))
			continue
		}
		key := k.Value
		if f, dup := first[key]; dup {
			d.note(k, join(path, key), "duplicate key %q %s (first at line %d)", key, where(path), f.Line)
			continue
		}
		first[key] = k
		if !contains(l.keys, key) {
			msg := fmt.Sprintf("unknown key %q %s (valid keys: %s)", key, where(path), strings.Join(l.keys, ", "))
			if s := suggest(key, l.keys); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
				suggested[s] = true
			}
			d.at(k, join(path, key), "%s", msg)
			continue
		}
		d.pos.keys[join(path, key)] = pos{k.Line, k.Column}
		d.pos.vals[join(path, key)] = pos{v.Line, v.Column}
		if isNull(v) {
			if contains(l.required, key) {
				d.at(v, join(path, key), "%s: required, but has no value", join(path, key))
			}
			continue
		}
		out[key] = v
	}
	for _, key := range l.required {
		if _, ok := first[key]; !ok {
			d.pos.bad[join(path, key)] = true
			if suggested[key] {
				continue // the unknown key's "did you mean" says it
			}
			d.errs = append(d.errs, &Error{File: d.pos.file, Line: n.Line, Column: n.Column, Path: join(path, key),
				Msg: fmt.Sprintf("missing required key %q %s", key, where(path))})
		}
	}
	return out, true
}

func nameOf(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest returns the valid key closest to key, if it is close enough to be
// a likely typo.
func suggest(key string, valid []string) string {
	best, bestDist := "", 1<<30
	for _, v := range valid {
		dist := levenshtein(strings.ToLower(key), v)
		if dist < bestDist {
			best, bestDist = v, dist
		}
	}
	limit := 2
	if len(key) <= 3 {
		limit = 1
	}
	if bestDist <= limit || (bestDist <= 3 && len(key) >= 8) {
		return best
	}
	// A prefix either way: "arch" -> "architectures", "exitcode" -> "exit".
	lower := strings.ToLower(key)
	for _, v := range valid {
		if len(key) >= 4 && strings.HasPrefix(v, lower) || len(v) >= 3 && strings.HasPrefix(lower, v) {
			return v
		}
	}
	return ""
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// str decodes a string scalar. Numbers and booleans are refused with a hint
// to quote them: YAML would otherwise silently turn 3.10 into 3.1.
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	n = deref(n)
	d.pos.vals[path] = pos{n.Line, n.Column}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		return n.Value, true
	}
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float" || n.Tag == "!!bool" || n.Tag == "!!timestamp") {
		d.at(n, path, "%s: expected a string, found %s; quote it: %q", path, describe(n), n.Value)
		return "", false
	}
	d.at(n, path, "%s: expected a string, found %s", path, describe(n))
	return "", false
}

// boolean decodes true or false.
func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	n = deref(n)
	d.pos.vals[path] = pos{n.Line, n.Column}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err == nil {
			return b, true
		}
	}
	d.at(n, path, "%s: expected true or false, found %s", path, describe(n))
	return false, false
}

// integer decodes a decimal integer.
func (d *decoder) integer(n *yaml.Node, path string) (int64, bool) {
	n = deref(n)
	d.pos.vals[path] = pos{n.Line, n.Column}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 10, 64)
		if err == nil {
			return i, true
		}
		d.at(n, path, "%s: expected a decimal integer, found %s", path, n.Value)
		return 0, false
	}
	d.at(n, path, "%s: expected an integer, found %s", path, describe(n))
	return 0, false
}

// seq checks that n is a list and returns its items.
func (d *decoder) seq(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	n = deref(n)
	d.pos.vals[path] = pos{n.Line, n.Column}
	if n.Kind != yaml.SequenceNode {
		d.at(n, path, "%s: expected a list, found %s", path, describe(n))
		return nil, false
	}
	return n.Content, true
}

// strList decodes a list of strings. An empty list gives a non-nil, empty
// slice, so that "present but empty" stays distinguishable from "absent".
func (d *decoder) strList(n *yaml.Node, path string) []string {
	items, ok := d.seq(n, path)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		if s, ok := d.str(it, index(path, i)); ok {
			out = append(out, s)
		} else {
			out = append(out, "")
		}
	}
	return out
}

// strMap decodes a mapping of strings to strings. Keys are free-form here;
// validation checks their syntax.
func (d *decoder) strMap(n *yaml.Node, path string) map[string]string {
	n = deref(n)
	d.pos.vals[path] = pos{n.Line, n.Column}
	if n.Kind != yaml.MappingNode {
		d.at(n, path, "%s: expected a mapping of names to strings, found %s", path, describe(n))
		return nil
	}
	out := map[string]string{}
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.at(k, path, "%s: expected a key name, found %s", path, describe(k))
			continue
		}
		p := join(path, k.Value)
		if line, dup := first[k.Value]; dup {
			d.note(k, p, "duplicate key %q in %s (first at line %d)", k.Value, path, line)
			continue
		}
		first[k.Value] = k.Line
		d.pos.keys[p] = pos{k.Line, k.Column}
		if s, ok := d.str(v, p); ok {
			out[k.Value] = s
		}
	}
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
