package spec

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

const schemaFile = "../../docs/definition.schema.json"

// schemaLevels walks the JSON Schema like the loader walks a definition and
// returns every object with declared properties, by the same level names as
// definitionLevels.
func schemaLevels(t *testing.T) map[string]level {
	t.Helper()
	data, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(data, &root); err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	defs, _ := root["$defs"].(map[string]any)
	resolve := func(s map[string]any) map[string]any {
		for {
			ref, ok := s["$ref"].(string)
			if !ok {
				return s
			}
			name, ok := strings.CutPrefix(ref, "#/$defs/")
			if !ok || defs[name] == nil {
				t.Fatalf("unresolvable $ref %q", ref)
			}
			s = defs[name].(map[string]any)
		}
	}
	out := map[string]level{}
	var walk func(path string, s map[string]any)
	walk = func(path string, s map[string]any) {
		s = resolve(s)
		if items, ok := s["items"].(map[string]any); ok {
			walk(path+"[]", items)
			return
		}
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			walk(path+".*", ap) // a mapping of names to objects (variants)
		}
		props, ok := s["properties"].(map[string]any)
		if !ok {
			return
		}
		if s["additionalProperties"] != false {
			t.Errorf("schema level %q: additionalProperties must be false", path)
		}
		var l level
		for k, v := range props {
			l.keys = append(l.keys, k)
			walk(join(path, k), v.(map[string]any))
		}
		req, _ := s["required"].([]any)
		for _, r := range req {
			l.required = append(l.required, r.(string))
		}
		out[path] = l
	}
	if _, ok := root["required"]; !ok {
		t.Fatal("schema has no top-level required")
	}
	walk("", root)
	return out
}

func TestSchemaMatchesLoader(t *testing.T) {
	// required may be absent in the schema: treat that as none.
	norm := func(l level) string {
		k, r := slices.Clone(l.keys), slices.Clone(l.required)
		sort.Strings(k)
		sort.Strings(r)
		return "keys " + strings.Join(k, ",") + "; required " + strings.Join(r, ",")
	}
	schema := schemaLevels(t)
	for name, l := range definitionLevels {
		s, ok := schema[name]
		if !ok {
			t.Errorf("level %q: the loader knows it, the schema does not", name)
			continue
		}
		if norm(l) != norm(s) {
			t.Errorf("level %q differs:\n loader: %s\n schema: %s", name, norm(l), norm(s))
		}
	}
	for name := range schema {
		if _, ok := definitionLevels[name]; !ok {
			t.Errorf("level %q: the schema has it, the loader does not", name)
		}
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("definition.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("definition.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// yamlToJSON converts YAML to the JSON value a schema validator sees, as an
// editor's YAML language server would.
func yamlToJSON(data []byte) (any, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(j))
}

func TestSchemaAcceptsExamples(t *testing.T) {
	s := compileSchema(t)
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, f := range files {
		if strings.HasSuffix(f, ".lock.yaml") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := yamlToJSON(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := s.Validate(v); err != nil {
			t.Errorf("%s: schema rejects an example the loader accepts: %v", f, err)
		}
	}
}

// goOnly are the error cases a JSON Schema cannot express (cross-field
// rules, path cleanliness, glob and regexp syntax, uniqueness of one field
// of list items). Every other invalid definition must fail the schema too.
var goOnly = map[string]bool{
	"two documents":              true, // a YAML reader gives the schema the first document only
	"bad pinned version":         true,
	"duplicate package":          true,
	"excluded root":              true,
	"no_dependencies not a root": true,
	"unclean writable":           true,
	"root without allow_root":    true,
	"unknown user":               true,
	"bad glob":                   true,
	"duplicate test name":        true,
	"bad regex":                  true,
}

func TestSchemaRejectsInvalid(t *testing.T) {
	s := compileSchema(t)
	for _, tt := range definitionErrorCases {
		v, err := yamlToJSON([]byte(tt.yaml))
		if err != nil || v == nil {
			continue // not YAML, or empty: no schema question
		}
		err = s.Validate(v)
		switch {
		case goOnly[tt.name] && err != nil:
			t.Errorf("%s: the schema rejects it now; remove it from goOnly", tt.name)
		case !goOnly[tt.name] && err == nil:
			t.Errorf("%s: the loader rejects it, the schema accepts it", tt.name)
		}
	}
}
