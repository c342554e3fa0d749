package lock

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/lifecycle"
	"github.com/temper-dev/temper/internal/resolve"
	"github.com/temper-dev/temper/internal/spec"
)

// ReleaseError is a release whose archive could not be loaded, with what
// temper knows about the name: archived, a typo, not Debian's.
type ReleaseError struct {
	Release string
	Err     error
}

func (e *ReleaseError) Error() string {
	known, archived := lifecycle.Known(e.Release)
	var hint string
	switch {
	case archived:
		hint = fmt.Sprintf("%s is archived: its packages are no longer on Debian's mirrors; use a supported release (bookworm, trixie)", e.Release)
	case !known:
		hint = fmt.Sprintf("%q is not a Debian release codename", e.Release)
		if c := lifecycle.Closest(e.Release); c != "" {
			hint += fmt.Sprintf("; did you mean %s?", c)
		} else {
			hint += " (known: " + strings.Join(lifecycle.Codenames, ", ") + ")"
		}
	default:
		return "release " + e.Release + ": " + e.Err.Error()
	}
	return "release " + hint + " (" + e.Err.Error() + ")"
}

func (e *ReleaseError) Unwrap() error { return e.Err }

// UnknownPackagesError names every root package a release does not have,
// not just the first.
type UnknownPackagesError struct {
	Missing []*archive.NotFoundError
	lines   map[string]int // package name -> line in the definition
	file    string
}

func (e *UnknownPackagesError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d unknown package(s):", len(e.Missing))
	for _, m := range e.Missing {
		b.WriteString("\n  ")
		if l := e.lines[m.Name]; l > 0 && e.file != "" {
			fmt.Fprintf(&b, "%s:%d: ", e.file, l)
		}
		b.WriteString(m.Error())
	}
	return b.String()
}

// unknownRoots returns an *UnknownPackagesError naming every root
// package the universe has neither as a package nor as a virtual one.
func unknownRoots(u *resolve.Universe, def *spec.Definition) error {
	rel := u.Release()
	var missing []*archive.NotFoundError
	for _, p := range def.Packages {
		if len(rel.Versions(p.Name)) > 0 {
			continue
		}
		_, err := rel.Lookup(p.Name)
		var nf *archive.NotFoundError
		if errors.As(err, &nf) && len(nf.ProvidedBy) == 0 {
			missing = append(missing, nf)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &UnknownPackagesError{Missing: missing}
}

// located adds the definition file's lines to the errors that can say
// where: the release line, each unknown package's line.
func located(file string, err error) error {
	var re *ReleaseError
	var ue *UnknownPackagesError
	switch {
	case errors.As(err, &re):
		if l := yamlLines(file, "debian", "release")[re.Release]; l > 0 {
			return fmt.Errorf("%s:%d: %w", file, l, err)
		}
	case errors.As(err, &ue):
		ue.file = file
		ue.lines = yamlLines(file, "packages")
	}
	return fmt.Errorf("%s: %w", file, err)
}

// yamlLines maps the scalar values under the mapping path (a scalar, or
// the items of a sequence, "name" or "name=version") to their lines; the
// key "name" of "name=version" is mapped too.
func yamlLines(file string, path ...string) map[string]int {
	out := map[string]int{}
	data, err := os.ReadFile(file)
	if err != nil {
		return out
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return out
	}
	n := doc.Content[0]
	for _, key := range path {
		if n.Kind != yaml.MappingNode {
			return out
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return out
		}
		n = next
	}
	add := func(s *yaml.Node) {
		if s.Kind == yaml.ScalarNode {
			name, _, _ := strings.Cut(s.Value, "=")
			out[s.Value], out[strings.TrimSpace(name)] = s.Line, s.Line
		}
	}
	if n.Kind == yaml.SequenceNode {
		for _, s := range n.Content {
			add(s)
		}
	} else {
		add(n)
	}
	return out
}
