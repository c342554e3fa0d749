package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/lock"
)

// TestScanLayout: temper scan --layout DIR:NAME:VERSION scans a built
// image from its status.d, and its OpenVEX names the image by digest.
func TestScanLayout(t *testing.T) {
	e := newScanEnv(t)
	f := buildtest.NewFixture(t)
	def, ctx := lockedTool(t, f)
	layout := filepath.Join(t.TempDir(), "images")
	res, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(t.TempDir()), Output: layout})
	if err != nil {
		t.Fatal(err)
	}
	// An open finding of low urgency in other: reported, not blocked.
	tracker := filepath.Join(e.dir, "data", "other.json")
	os.WriteFile(tracker, []byte(`{"other": {"CVE-2025-2": {"releases": {"bookworm": {"status": "open", "urgency": "low"}}}}}`), 0o644)
	os.Chtimes(tracker, e.now, e.now)
	vex := filepath.Join(e.dir, "vex")
	out, st, err := e.run(t, "scan", "--json", "--tracker", tracker, "--kev", e.kev, "--openvex", vex, "--layout", layout+":tool:1")
	if err != nil || st != 0 {
		t.Fatalf("scan --layout: %d %v\n%s", st, err, out)
	}
	var rep struct {
		Images []struct {
			Definition, Name, Release, Error string
			Architectures                    []string
			Findings                         []struct{ ID, Status string }
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Images) != 1 {
		t.Fatalf("%v\n%s", err, out)
	}
	if im := rep.Images[0]; im.Definition != layout+":tool:1" || im.Name != "tool" || im.Release != "bookworm" || im.Error != "" || strings.Join(im.Architectures, ",") != "amd64" || len(im.Findings) != 1 || im.Findings[0].Status != "open" {
		t.Errorf("image %+v", im)
	}
	doc, err := os.ReadFile(filepath.Join(vex, "tool_1.openvex.json"))
	product := `"@id": "pkg:oci/tool@` + strings.Replace(res.IndexDigest, ":", "%3A", 1) + `"`
	if err != nil || !strings.Contains(string(doc), product) || !strings.Contains(string(doc), "pkg:deb/debian/other@2.0?arch=amd64") {
		t.Errorf("OpenVEX: %v\n%s", err, doc)
	}
	_, st, err = e.run(t, "scan", "--tracker", e.tracker, "--layout", layout+":nothing:1")
	if st != 1 || err == nil {
		t.Errorf("a missing image: %d %v", st, err)
	}
}

// lockedTool writes the fixture's bookworm amd64 "tool" definition
// (packages tool and other) and locks it against f's archive.
func lockedTool(t *testing.T, f *buildtest.Fixture) (string, context.Context) {
	t.Helper()
	def := buildtest.WriteDef(t, t.TempDir(), "tool.yaml", "name: tool\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool, other]\n")
	ctx := context.Background()
	if outs, err := lock.Run(ctx, []string{def}, lock.Options{Client: f.Client(t.TempDir())}); err != nil || outs[0].Err != nil {
		t.Fatalf("lock: %v %+v", err, outs)
	}
	return def, ctx
}
