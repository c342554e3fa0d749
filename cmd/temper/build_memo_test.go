package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
)

// TestBuildFromMemo: `temper build` into a second, fresh layout with the
// same cache writes the image from the build memo and says so, with the
// digest of the first build.
func TestBuildFromMemo(t *testing.T) {
	e := newCLIEnvArchive(t, func(key *openpgp.Entity) *testarchive.Archive {
		control := "Package: tool\nVersion: 1.0\nArchitecture: amd64\nMaintainer: T <t@example.org>\nDescription: tool\n"
		tool := testarchive.Package{Name: "tool", Version: "1.0", Arch: "amd64",
			Deb: debtest.Build(t, debtest.Spec{Control: control, Files: []debtest.File{{Path: "./usr/bin/tool", Mode: 0o755, Data: []byte("tool")}}, AutoDirs: true})}
		return &testarchive.Archive{Signers: []*openpgp.Entity{key}, Suites: []testarchive.Suite{
			{Name: "bookworm", Architectures: []string{"amd64"}, Packages: []testarchive.Package{tool}},
			{Name: "bookworm-updates", Architectures: []string{"amd64"}},
			{Name: "bookworm-security", Archive: "debian-security", Architectures: []string{"amd64"}},
		}}
	})
	def := filepath.Join(t.TempDir(), "tool.yaml")
	os.WriteFile(def, []byte("name: tool\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool]\n"), 0o644)
	var lines []string
	for _, args := range [][]string{{"lock", def}, {"build", def, "-o", filepath.Join(t.TempDir(), "a")}, {"build", def, "-o", filepath.Join(t.TempDir(), "b")}} {
		out, err := e.run(t, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, ": built tool:1 ") {
				lines = append(lines, l)
			}
		}
	}
	if len(lines) != 2 || strings.Contains(lines[0], "memo") || !strings.HasSuffix(lines[1], " from the build memo") {
		t.Fatalf("build lines: %q", lines)
	}
	digest := func(l string) string { return strings.Fields(l)[3] }
	if digest(lines[0]) != digest(lines[1]) || !strings.HasPrefix(digest(lines[1]), "sha256:") {
		t.Errorf("digests differ: %q", lines)
	}
}
