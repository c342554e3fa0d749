package published_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/published"
	"github.com/temper-dev/temper/internal/spec"
)

const good = `# comment
figures:
  - compare: python:3.11-bookworm
    image: python:3.11-slim-bookworm
    publisher: Docker official images
    base: bookworm
    date: 2026-08-25
    source: https://github.com/example/info/blob/0123/python.md
    compressed:
      amd64: 47790358
      arm64: 47443665
    note: shell, apt
  - compare: redis:7.0-bookworm
    image: redis:7.0-bookworm
    publisher: Docker official images
    base: bookworm
    date: 2026-08-01
    source: https://github.com/example/info/blob/0123/redis.md
    compressed:
      amd64: 40000000
`

func TestParse(t *testing.T) {
	f, err := published.Parse("p.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Figures) != 2 {
		t.Fatalf("figures = %d, want 2", len(f.Figures))
	}
	py := f.Figures[0]
	if py.Line != 3 || f.Figures[1].Line != 13 {
		t.Errorf("lines = %d, %d, want 3, 13", py.Line, f.Figures[1].Line)
	}
	if py.Compressed["amd64"] != 47790358 || py.Compressed["arm64"] != 47443665 || py.Image != "python:3.11-slim-bookworm" || py.Note != "shell, apt" {
		t.Errorf("figure = %+v", py)
	}
	if err := f.Check([]string{"python:3.11-bookworm", "redis:7.0-bookworm"}); err != nil {
		t.Error(err)
	}
	err = f.Check([]string{"python:3.11-bookworm"})
	if err == nil || !strings.Contains(err.Error(), "p.yaml:13: compare: redis:7.0-bookworm is not an image of the catalog; use one of: python:3.11-bookworm") {
		t.Errorf("Check without redis = %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, from, to string
		want           []string
	}{
		{"unknown key", "    note: shell, apt", "    notes: shell, apt", []string{"p.yaml: ", "line 12: field notes not found"}},
		{"bad date", "date: 2026-08-25", "date: August 2026", []string{`p.yaml:3: date: "August 2026" is not a date; write the figure's date as YYYY-MM-DD`}},
		{"http source", "source: https://github.com/example/info/blob/0123/python.md", "source: python.md", []string{`p.yaml:3: source: "python.md" is not an https URL`}},
		{"no size", "      amd64: 40000000\n", "      amd64: 0\n", []string{"p.yaml:13: compressed.amd64: 0 is not a size"}},
		{"compare", "compare: python:3.11-bookworm", "compare: python", []string{`p.yaml:3: compare: "python" must name a temper image as NAME:VERSION`}},
		{"two errors", "    base: bookworm\n    date: 2026-08-01\n    source: https://github.com/example/info/blob/0123/redis.md\n    compressed:\n      amd64: 40000000\n",
			"    date: 2026-08-01\n    source: https://github.com/example/info/blob/0123/redis.md\n", []string{"p.yaml:13: base: missing", "p.yaml:13: compressed: missing"}},
		{"duplicate", "compare: redis:7.0-bookworm\n    image: redis:7.0-bookworm", "compare: python:3.11-bookworm\n    image: python:3.11-slim-bookworm", []string{"p.yaml:13: python:3.11-bookworm is compared with python:3.11-slim-bookworm twice (first on line 3)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(good, tc.from, tc.to, 1)
			if src == good {
				t.Fatal("the test did not change the file")
			}
			_, err := published.Parse("p.yaml", []byte(src))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
	if _, err := published.Parse("p.yaml", []byte("figures: []\n")); err == nil || !strings.Contains(err.Error(), "no figures") {
		t.Errorf("empty = %v", err)
	}
}

// TestCommittedFigures keeps docs/published-sizes.yaml valid and in step
// with the catalog: every figure compares an image the catalog has.
func TestCommittedFigures(t *testing.T) {
	repo := filepath.Join("..", "..")
	f, err := published.Load(filepath.Join(repo, "docs", "published-sizes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defs, err := spec.FindDefinitions([]string{filepath.Join(repo, "examples", "catalog")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range defs {
		d, err := spec.LoadDefinition(p)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, d.Name+":"+d.Version)
	}
	if err := f.Check(names); err != nil {
		t.Fatal(err)
	}
	// docs/catalog.md is generated with these figures: an edit of the
	// figures without regenerating the report shows here.
	report, err := os.ReadFile(filepath.Join(repo, "docs", "catalog.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, fig := range f.Figures {
		if !strings.Contains(fig.Source, fig.Image[:strings.Index(fig.Image, ":")]) {
			t.Errorf("line %d: the source %s does not look like %s's page", fig.Line, fig.Source, fig.Image)
		}
		row := fmt.Sprintf("| `%s` | `%s` | %s | %s |", fig.Compare, fig.Image, fig.Base, fig.Date)
		if !strings.Contains(string(report), row) || !strings.Contains(string(report), "("+fig.Source+")") {
			t.Errorf("line %d: docs/catalog.md has no row %q with its source; regenerate it: temper catalog report examples/catalog --layout LAYOUT --published docs/published-sizes.yaml > docs/catalog.md", fig.Line, row)
		}
	}
}

func TestAboutNamesAPublisher(t *testing.T) {
	src := "about:\n  Docker official imagez: text\n" + strings.TrimPrefix(good, "# comment\n")
	_, err := published.Parse("p.yaml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), `p.yaml: about: "Docker official imagez" is no figure's publisher`) {
		t.Errorf("err = %v", err)
	}
	f, err := published.Parse("p.yaml", []byte(strings.Replace(src, "imagez", "images", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if f.About["Docker official images"] != "text" {
		t.Errorf("about = %v", f.About)
	}
}

func TestOnly(t *testing.T) {
	f, err := published.Parse("p.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	part, warnings := f.Only([]string{"redis:7.0-bookworm"})
	if len(part.Figures) != 1 || part.Figures[0].Compare != "redis:7.0-bookworm" || part.Path != "p.yaml" {
		t.Errorf("figures = %+v", part.Figures)
	}
	if len(warnings) != 1 || warnings[0] != "p.yaml:3: python:3.11-bookworm is not an image of this report; its figure is left out" {
		t.Errorf("warnings = %q", warnings)
	}
	if all, w := f.Only([]string{"redis:7.0-bookworm", "python:3.11-bookworm"}); len(all.Figures) != 2 || len(w) != 0 {
		t.Errorf("all: %d figures, %q", len(all.Figures), w)
	}
}
