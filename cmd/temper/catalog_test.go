package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/temper-dev/temper/internal/catalog"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
	"github.com/temper-dev/temper/internal/oci"
)

// TestCatalogReportRejectsBadFigures: a mistake in the published figures
// is reported with its file and line before any image or the archive is
// read, and nothing is written.
func TestCatalogReportRejectsBadFigures(t *testing.T) {
	e := &cliEnv{aptRoot: t.TempDir(), cache: t.TempDir()}
	bad := filepath.Join(t.TempDir(), "published.yaml")
	os.WriteFile(bad, []byte("figures:\n  - compare: python:3.11-bookworm\n    image: python:3.11-slim-bookworm\n    publisher: Docker official images\n    base: bookworm\n    date: 25 August\n    source: https://github.com/example/x.md\n    compressed: {amd64: 1}\n"), 0o644)
	out, err := e.run(t, "catalog", "report", filepath.Join("..", "..", "examples", "catalog"), "--layout", t.TempDir(), "--published", bad)
	if err == nil || !strings.Contains(err.Error(), bad+`:2: date: "25 August" is not a date`) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(out, "| image |") {
		t.Errorf("a report was written:\n%s", out)
	}
}

// TestCatalogReportCLI runs lock, build and catalog report on a fixture
// archive of real .debs: the report's sizes are those of the layers in
// the layout, the package count that of the lock, the support dates
// those of the lifecycle data, and the comparison uses those sizes. An
// image built from another lock is refused with the command to rebuild.
func TestCatalogReportCLI(t *testing.T) {
	deb := func(name, deps string, files ...debtest.File) testarchive.Package {
		control := "Package: " + name + "\nVersion: 1.0\nArchitecture: amd64\nMaintainer: T <t@example.org>\nDescription: " + name + "\n"
		fields := map[string]string{}
		if deps != "" {
			control += "Depends: " + deps + "\n"
			fields["Depends"] = deps
		}
		return testarchive.Package{Name: name, Version: "1.0", Arch: "amd64", Fields: fields,
			Deb: debtest.Build(t, debtest.Spec{Control: control, Files: files, AutoDirs: true})}
	}
	noise := make([]byte, 200_000) // incompressible: the layer is big enough to see
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	e := newCLIEnvArchive(t, func(key *openpgp.Entity) *testarchive.Archive {
		return &testarchive.Archive{Signers: []*openpgp.Entity{key}, Suites: []testarchive.Suite{
			{Name: "bookworm", Architectures: []string{"amd64"}, Packages: []testarchive.Package{
				deb("libc6", "", debtest.File{Path: "./lib/x86_64-linux-gnu/libc.so.6", Mode: 0o755, Data: []byte("libc")}),
				deb("tool", "libc6", debtest.File{Path: "./usr/bin/tool", Mode: 0o755, Data: noise}),
				deb("cc", "libc6", debtest.File{Path: "./usr/bin/cc", Mode: 0o755, Data: noise[:100_000]}),
			}},
			{Name: "bookworm-updates", Architectures: []string{"amd64"}},
			{Name: "bookworm-security", Archive: "debian-security", Architectures: []string{"amd64"}},
		}}
	})
	cat := t.TempDir()
	def := filepath.Join(cat, "tool", "1-bookworm.yaml")
	os.MkdirAll(filepath.Dir(def), 0o755)
	os.WriteFile(def, []byte("name: tool\nversion: \"1-bookworm\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool]\nimage:\n  entrypoint: [/usr/bin/tool]\nvariants:\n  dev:\n    packages: [cc]\n    shell: true\n    user: root\n"), 0o644)
	layout := filepath.Join(t.TempDir(), "layout")
	for _, args := range [][]string{{"lock", cat}, {"build", cat, "-o", layout}} {
		if out, err := e.run(t, args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	csv := filepath.Join(t.TempDir(), "debian.csv")
	os.WriteFile(csv, []byte("version,codename,series,created,release,eol,eol-lts,eol-elts\n12,Bookworm,bookworm,2021-08-14,2023-06-10,2026-06-10,2028-06-30,2033-06-30\n"), 0o644)
	pub := filepath.Join(t.TempDir(), "published.yaml")
	os.WriteFile(pub, []byte("figures:\n  - compare: tool:1-bookworm\n    image: tool:1-slim\n    publisher: Somebody\n    base: bookworm\n    date: 2026-01-02\n    source: https://example.org/tool.md\n    compressed: {amd64: 1000000}\n  - compare: gone:1\n    image: gone:1\n    publisher: Somebody\n    base: bookworm\n    date: 2026-01-02\n    source: https://example.org/gone.md\n    compressed: {amd64: 5}\n"), 0o644)

	out, err := e.run(t, "catalog", "report", cat, "--layout", layout, "--distro-info", csv, "--published", pub)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The sizes the report must show, read from the layout directly.
	idx, err := oci.ReadLayoutRef(layout, "tool:1-bookworm")
	if err != nil {
		t.Fatal(err)
	}
	img, err := oci.ImageFor(idx, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	var compressed, uncompressed int64
	for _, l := range layers {
		size, _ := l.Size()
		compressed += size
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		uncompressed += n
	}
	if compressed < 200_000 || uncompressed < compressed {
		t.Fatalf("layer sizes %d/%d", compressed, uncompressed)
	}
	row := fmt.Sprintf("| `tool:1-bookworm` | bookworm (12) | 2 | %s | %s | – | – | 2026-06-10 | 2028-06-30 |  |", catalog.FormatSize(compressed), catalog.FormatSize(uncompressed))
	cmp := fmt.Sprintf("| `tool:1-bookworm` | `tool:1-slim` | bookworm | 2026-01-02 | %s vs 1.0 MB (%s) | – |", catalog.FormatSize(compressed), catalog.FormatRatio(1e6/float64(compressed)))
	// A figure for an image outside the report is left out, with a warning.
	warning := "temper: warning: " + pub + ":9: gone:1 is not an image of this report; its figure is left out"
	// The dev variant is listed under its runtime: one package more, what
	// it relaxes; it is not compared with published figures.
	variant := "| ↳ `tool:1-bookworm-dev` (+1 packages, +"
	if i, j := strings.Index(out, row), strings.Index(out, variant); i < 0 || j < i || !strings.Contains(out[j:], "| bookworm (12) | 3 |") ||
		!strings.Contains(out[j:strings.Index(out[j:], "\n")+j], "| shell, root |") {
		t.Errorf("no variant row under the runtime:\n%s", out)
	}
	for _, want := range []string{row, cmp, "### Somebody", "1 image streams and 1 variants of them, 2 images.", "Over 1 comparisons (image × architecture) temper's image is the smaller in 1;", warning} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks\n%s\n---\n%s", want, out)
		}
	}

	// The definition changes: the image in the layout is no longer its build.
	os.WriteFile(def, []byte("name: tool\nversion: \"1-bookworm\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool]\nimage:\n  entrypoint: [/usr/bin/tool, --flag]\n"), 0o644)
	if out, err := e.run(t, "lock", cat); err != nil {
		t.Fatalf("lock: %v\n%s", err, out)
	}
	_, err = e.run(t, "catalog", "report", cat, "--layout", layout, "--distro-info", csv)
	if err == nil || !strings.Contains(err.Error(), "was not built from this lock; rebuild it: temper build "+def+" -o "+layout) {
		t.Errorf("stale image: %v", err)
	}
}
