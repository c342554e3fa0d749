package spec

import (
	"errors"
	"testing"
)

// A YAML syntax error is reported on its line (yaml.v3 gives parser
// errors 0-based).
func TestYAMLSyntaxLine(t *testing.T) {
	head := "name: x\nversion: \"1\"\ndebian:\n  release: bookworm\n"
	for _, tc := range []struct {
		text string
		line int
	}{
		{head + "- packages\narchitectures: [amd64]\n", 5},      // did not find expected key
		{head + "packages: [a, b\narchitectures: [amd64]\n", 5}, // did not find expected ',' or ']'
		{head + "packages: {a\narchitectures: [amd64]\n", 5},    // did not find expected ',' or '}'
		{head + "  packages: a: b\n", 5},                        // mapping values are not allowed (scanner)
		{head + "packages: @a\n", 5},                            // cannot start any token (scanner)
		{"name: x\nversion: \"1\"\n- a\n", 3},                   // did not find expected key
		{"name: x\n- a\n", 2},                                   // did not find expected key
	} {
		_, err := ParseDefinition("def.yaml", []byte(tc.text))
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: %v, want a *spec.Error", tc.text, err)
			continue
		}
		if e.Line != tc.line {
			t.Errorf("%q: line %d (%v), want %d", tc.text, e.Line, err, tc.line)
		}
	}
}
