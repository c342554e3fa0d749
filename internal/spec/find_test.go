package spec_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/spec"
)

func TestFindDefinitions(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{
		"python.yaml", "python.lock.yaml", "temper.yaml", ".hidden.yaml", "notes.txt",
		"web/nginx.yml", ".git/ignored.yaml", "web/nginx.lock.yaml",
	} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	explicit := filepath.Join(dir, "notes.txt") // named: taken as it is
	got, err := spec.FindDefinitions([]string{dir, explicit, filepath.Join(dir, "web")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{explicit, filepath.Join(dir, "python.yaml"), filepath.Join(dir, "web/nginx.yml")}
	if !slices.Equal(got, want) {
		t.Errorf("FindDefinitions = %q, want %q", got, want)
	}
	if _, err := spec.FindDefinitions([]string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("a missing path must be an error")
	}
	empty := filepath.Join(dir, ".git")
	if files, err := spec.FindDefinitions([]string{empty}); err != nil || len(files) != 1 {
		t.Errorf("a directory named explicitly is walked even when hidden: %q, %v", files, err)
	}
	none := t.TempDir()
	_, err = spec.RequireDefinitions([]string{none})
	if err == nil || !strings.HasPrefix(err.Error(), "no definitions found in "+none+" (definitions are *.yaml") {
		t.Errorf("RequireDefinitions of an empty directory: %v", err)
	}
}
