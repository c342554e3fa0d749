package server_test

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestOpenAPICoversEveryRoute: every route the server mounts (the API's,
// the health and metrics routes, the dashboard's pages) is an operation
// in docs/openapi.yaml, and the file documents no route the server lacks.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	b, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("docs/openapi.yaml: openapi %q, want 3.1.x", doc.OpenAPI)
	}
	e := start(t, "1000h")
	routes := e.srv.Routes()
	if len(routes) < 13 {
		t.Fatalf("only %d routes: %v", len(routes), routes)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "post", "put", "patch", "delete", "head":
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	mounted := map[string]bool{}
	for _, pattern := range routes {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok { // no method: any; the file documents GET
			method, path = "GET", pattern
		}
		// net/http's {$} anchors "/" exactly; a trailing "/" is a subtree,
		// documented as its {path} parameter.
		path = strings.TrimSuffix(path, "{$}")
		if path != "/" && strings.HasSuffix(path, "/") {
			path += "{path}"
		}
		key := method + " " + path
		mounted[key] = true
		if !documented[key] {
			t.Errorf("route %q (%s) is not in docs/openapi.yaml", pattern, key)
		}
	}
	for op := range documented {
		if !mounted[op] {
			t.Errorf("docs/openapi.yaml documents %s, which the server does not mount", op)
		}
	}
}
