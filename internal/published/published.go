// Package published reads the sizes other projects publish for the images
// teams use today (Docker's official images, for instance), so that
// `temper catalog report` can compare temper's images with them.
//
// The figures are data, not measurements: each names the image it was
// published for, the date and the exact source it was copied from (a URL
// pinned to a commit where the publisher keeps its figures in git), so a
// reader can check every number and a maintainer can refresh them.
package published

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Figure is one published image compared with one temper image.
type Figure struct {
	// Compare is the temper image, NAME:VERSION as the catalog names it.
	Compare string `yaml:"compare"`
	// Image is the published image's reference, e.g. python:3.11-slim-bookworm.
	Image string `yaml:"image"`
	// Publisher is who publishes it, e.g. "Docker official images".
	Publisher string `yaml:"publisher"`
	// Base is the distribution release the published image is built on.
	Base string `yaml:"base"`
	// Date is when the figure was true: the newest layer's date.
	Date string `yaml:"date"`
	// Source is where the figure was copied from.
	Source string `yaml:"source"`
	// Compressed is the published compressed (download) size in bytes, per
	// architecture.
	Compressed map[string]int64 `yaml:"compressed"`
	// Note says how the published image differs in kind, not only size.
	Note string `yaml:"note"`

	// Line is the figure's line in the file, for error messages.
	Line int `yaml:"-"`
}

// File is a published-sizes file.
type File struct {
	Path    string
	Figures []Figure
	// About says, per publisher, what all its images have in common.
	About map[string]string
}

type document struct {
	About   map[string]string `yaml:"about"`
	Figures []Figure          `yaml:"figures"`
}

// Load reads and validates the published-sizes file at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("published sizes: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates a published-sizes file; name is used in error
// messages. Every problem is reported, one per line, with its line number.
func Parse(name string, data []byte) (*File, error) {
	var doc document
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %s (the file holds about: a map of publisher to text, and figures: a list of compare, image, publisher, base, date, source, compressed and note)", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	// A second pass over the node tree gives each figure its line.
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if seq := figuresNode(&root); seq != nil {
		for i, n := range seq.Content {
			if i < len(doc.Figures) {
				doc.Figures[i].Line = n.Line
			}
		}
	}
	f := &File{Path: name, Figures: doc.Figures, About: doc.About}
	if len(f.Figures) == 0 {
		return nil, fmt.Errorf("%s: no figures; list them under figures:", name)
	}
	var errs []error
	seen := map[string]int{}
	publishers := map[string]bool{}
	for _, fig := range f.Figures {
		publishers[fig.Publisher] = true
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s:%d: %s", name, fig.Line, fmt.Sprintf(format, args...)))
		}
		if fig.Compare == "" || !strings.Contains(fig.Compare, ":") {
			bad("compare: %q must name a temper image as NAME:VERSION, e.g. python:3.11-bookworm", fig.Compare)
		}
		if fig.Image == "" {
			bad("image: missing; name the published image, e.g. python:3.11-slim-bookworm")
		}
		if fig.Publisher == "" {
			bad("publisher: missing; say who publishes %s", fig.Image)
		}
		if fig.Base == "" {
			bad("base: missing; name the release %s is built on (e.g. bookworm, noble)", fig.Image)
		}
		if _, err := time.Parse(time.DateOnly, fig.Date); err != nil {
			bad("date: %q is not a date; write the figure's date as YYYY-MM-DD", fig.Date)
		}
		if u, err := url.Parse(fig.Source); err != nil || u.Scheme != "https" || u.Host == "" {
			bad("source: %q is not an https URL; give the page the figure was copied from", fig.Source)
		}
		if len(fig.Compressed) == 0 {
			bad("compressed: missing; give the published compressed size in bytes per architecture, e.g. amd64: 47790358")
		}
		for arch, n := range fig.Compressed {
			if n <= 0 {
				bad("compressed.%s: %d is not a size; give the published size in bytes", arch, n)
			}
		}
		key := fig.Compare + " " + fig.Image
		if first, ok := seen[key]; ok {
			bad("%s is compared with %s twice (first on line %d); keep one", fig.Compare, fig.Image, first)
		}
		seen[key] = fig.Line
	}
	for p := range f.About {
		if !publishers[p] {
			errs = append(errs, fmt.Errorf("%s: about: %q is no figure's publisher; fix its name or remove it", name, p))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

func figuresNode(root *yaml.Node) *yaml.Node {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "figures" && m.Content[i+1].Kind == yaml.SequenceNode {
			return m.Content[i+1]
		}
	}
	return nil
}

// Only returns the file restricted to the figures that compare one of
// images, and a warning (with its line) for each figure left out: a
// report over part of a catalog uses the figures of that part.
func (f *File) Only(images []string) (*File, []string) {
	known := map[string]bool{}
	for _, im := range images {
		known[im] = true
	}
	out := &File{Path: f.Path, About: f.About}
	var warnings []string
	for _, fig := range f.Figures {
		if known[fig.Compare] {
			out.Figures = append(out.Figures, fig)
		} else {
			warnings = append(warnings, fmt.Sprintf("%s:%d: %s is not an image of this report; its figure is left out", f.Path, fig.Line, fig.Compare))
		}
	}
	return out, warnings
}

// Check reports figures whose compare names no image of the catalog, so a
// renamed stream cannot silently drop out of the comparison.
func (f *File) Check(images []string) error {
	known := map[string]bool{}
	for _, im := range images {
		known[im] = true
	}
	var errs []error
	for _, fig := range f.Figures {
		if !known[fig.Compare] {
			sorted := append([]string(nil), images...)
			sort.Strings(sorted)
			errs = append(errs, fmt.Errorf("%s:%d: compare: %s is not an image of the catalog; use one of: %s", f.Path, fig.Line, fig.Compare, strings.Join(sorted, ", ")))
		}
	}
	return errors.Join(errs...)
}
