package spec

import (
	"time"

	"go.yaml.in/yaml/v3"
)

// day decodes a calendar day written YYYY-MM-DD, bare (YAML reads it as
// a timestamp) or quoted, and returns it in that form.
func (d *decoder) day(n *yaml.Node, path string) string {
	n = deref(n)
	d.pos.vals[path] = pos{n.Line, n.Column}
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!str" || n.Tag == "!!timestamp") {
		if t, err := time.Parse(time.DateOnly, n.Value); err == nil && t.Format(time.DateOnly) == n.Value {
			return n.Value
		}
	}
	d.at(n, path, "%s: expected a day as YYYY-MM-DD, e.g. 2027-06-30, found %s", path, describe(n))
	return ""
}
