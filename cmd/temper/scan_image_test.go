package main

import (
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
)

// TestScanImage: temper scan --image REF on images pushed to an in-memory
// registry: an unsigned one is read from its layers' status.d; a signed
// one, with --key, from its verified SPDX SBOM attestation (no layer
// pulled); both give the same finding, and the OpenVEX names the image by
// its index digest. Another key refuses the signed image (exit 1, gate
// not-scanned).
func TestScanImage(t *testing.T) {
	e := newScanEnv(t)
	f := buildtest.NewFixture(t)
	def, ctx := lockedTool(t, f)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	unsigned, signed := host+"/temper/tool:1", host+"/signed/tool:1"
	if _, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(t.TempDir()), Push: unsigned}); err != nil {
		t.Fatal(err)
	}
	priv, pub, _ := attest.GenerateKeyPair([]byte("pw"))
	s, _ := attest.LoadPrivateKey(priv, []byte("pw"))
	res, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(t.TempDir()), Push: signed, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(e.dir, "cosign.pub")
	os.WriteFile(keyFile, pub, 0o644)
	tracker := filepath.Join(e.dir, "data", "other.json")
	os.WriteFile(tracker, []byte(`{"other": {"CVE-2025-2": {"releases": {"bookworm": {"status": "open", "urgency": "low"}}}}}`), 0o644)
	os.Chtimes(tracker, e.now, e.now)

	vex := filepath.Join(e.dir, "vex")
	out, st, err := e.run(t, "scan", "--json", "--tracker", tracker, "--openvex", vex, "--key", keyFile, "--image", unsigned, "--image", signed)
	if err != nil || st != 0 {
		t.Fatalf("scan --image: %d %v\n%s", st, err, out)
	}
	var rep struct {
		Images []struct {
			Definition, Name, Release, Error string
			ReadFrom                         string `json:"read_from"`
			Findings                         []struct{ ID, Source, Status string }
			Gate                             struct{ Passed bool }
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Images) != 2 {
		t.Fatalf("%v\n%s", err, out)
	}
	for i, want := range []string{"status.d", "spdx-attestation"} {
		im := rep.Images[i]
		if im.ReadFrom != want || im.Name != "tool" || im.Release != "bookworm" || im.Error != "" || !im.Gate.Passed || len(im.Findings) != 1 || im.Findings[0].ID != "CVE-2025-2" || im.Findings[0].Source != "other" || im.Findings[0].Status != "open" {
			t.Errorf("image %d: %+v", i, im)
		}
	}
	doc, err := os.ReadFile(filepath.Join(vex, "tool_1.openvex.json"))
	if err != nil || !strings.Contains(string(doc), `"@id": "pkg:oci/tool@`+strings.Replace(res.IndexDigest, ":", "%3A", 1)+`"`) {
		t.Errorf("OpenVEX: %v\n%s", err, doc)
	}

	_, otherPub, _ := attest.GenerateKeyPair([]byte("pw"))
	os.WriteFile(keyFile, otherPub, 0o644)
	out, st, err = e.run(t, "scan", "--tracker", tracker, "--key", keyFile, "--image", signed)
	if st != 1 || err == nil || !strings.Contains(out, "no DSSE signature verifies with the key") || !strings.Contains(out, "gate: FAILED (not scanned)") {
		t.Errorf("another key: %d %v\n%s", st, err, out)
	}
}
