package evidence_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/evidence"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/sbom"
)

func signer(t *testing.T) *attest.Signer {
	priv, _, err := attest.GenerateKeyPair([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := attest.LoadPrivateKey(priv, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSignedBuild: a signed build pushed to a registry verifies; another
// key, a replaced signature, an SBOM that disagrees with the image and a
// registry that refuses the evidence each fail loudly, and a refused push
// leaves no signature tagged.
func TestSignedBuild(t *testing.T) {
	f := buildtest.NewFixture(t)
	dir := t.TempDir()
	def := buildtest.WriteDef(t, dir, "tool.yaml", "name: tool\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool, other]\n")
	if outs, err := lock.Run(context.Background(), []string{def}, lock.Options{Client: f.Client(t.TempDir())}); err != nil || outs[0].Err != nil {
		t.Fatalf("lock: %v %+v", err, outs)
	}
	refuse := ""
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuse != "" && r.Method == http.MethodPut && strings.Contains(r.URL.Path, refuse) {
			http.Error(w, `{"errors":[{"code":"DENIED","message":"refused by test"}]}`, http.StatusForbidden)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	ref := host + "/temper/tool:1"
	s := signer(t)
	ctx := context.Background()
	out := filepath.Join(dir, "layout")
	sboms := filepath.Join(dir, "sboms")
	res, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(t.TempDir()), Output: out, Push: ref, Signer: s, SBOMDir: sboms})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := evidence.Verify(ctx, ref, s.Verifier())
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if rep.IndexDigest != res.IndexDigest || len(rep.Platforms) != 1 || rep.Platforms[0].Packages != 3 || len(rep.Platforms[0].Predicates) != 3 {
		t.Errorf("report %+v", rep)
	}
	// SBOM files and the layout's signature images.
	spdx, err := os.ReadFile(filepath.Join(sboms, "tool-1-amd64.spdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	listed, digest, err := sbom.SPDXPackages(spdx)
	if err != nil || len(listed) != 3 || digest != res.Images[0].Digest {
		t.Errorf("SPDX file: %v %s %v", listed, digest, err)
	}
	if !strings.Contains(string(spdx), `"downloadLocation": "`+f.Server.ArchiveURL()+`/pool/`) || !strings.Contains(string(spdx), "T <t@example.org>") {
		t.Errorf("SPDX lacks the download location or supplier:\n%s", spdx)
	}
	if _, err := os.Stat(filepath.Join(sboms, "tool-1-amd64.cdx.json")); err != nil {
		t.Error(err)
	}
	p, _ := layout.FromPath(out)
	ii, _ := p.ImageIndex()
	im, _ := ii.IndexManifest()
	names := map[string]bool{}
	for _, d := range im.Manifests {
		names[d.Annotations["org.opencontainers.image.ref.name"]] = true
	}
	for _, want := range []string{"tool:1", "tool:" + attest.SigTag(res.IndexDigest), "tool:" + attest.AttTag(res.IndexDigest), "tool:" + attest.SigTag(res.Images[0].Digest), "tool:" + attest.AttTag(res.Images[0].Digest)} {
		if !names[want] {
			t.Errorf("layout lacks %s (has %v)", want, names)
		}
	}

	// Another key.
	other := signer(t)
	if _, err := evidence.Verify(ctx, ref, other.Verifier()); err == nil || !strings.Contains(err.Error(), "does not verify with the key") || !strings.Contains(err.Error(), "index "+res.IndexDigest) {
		t.Errorf("another key: %v", err)
	}

	// Evidence signed by the right key, about a lock whose versions differ
	// from the image's: the SBOM check names the package.
	def2, l, err := build.Load(def)
	if err != nil {
		t.Fatal(err)
	}
	idx, _, _, err := build.Index(ctx, def2, l, f.Fetcher(t.TempDir()), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range l.Architectures["amd64"].Packages {
		if l.Architectures["amd64"].Packages[i].Name == "other" {
			l.Architectures["amd64"].Packages[i].Version = "2.0+evil"
		}
	}
	repo, _ := attest.Repository(ref)
	in := build.EvidenceInput(def2, l, idx)
	in.Mirrors, in.Repo, in.Signer = f.Mirrors, repo.String(), s
	ev, err := evidence.Make(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Bundle.Push(ctx, repo); err != nil {
		t.Fatal(err)
	}
	if _, err := evidence.Verify(ctx, ref, s.Verifier()); err == nil || !strings.Contains(err.Error(), "SBOM mismatch: other: the SBOM says 2.0+evil, the image's /var/lib/dpkg/status.d/other says 2.0") {
		t.Errorf("tampered SBOM: %v", err)
	}

	// The registry refuses the attestations: the build fails with the
	// registry's reason and no signature is tagged.
	refuse = "/manifests/sha256-"
	ref2 := host + "/temper/tool2:1"
	_, err = build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(t.TempDir()), Push: ref2, Signer: s})
	if err == nil || !strings.Contains(err.Error(), "pushing attestations") || !strings.Contains(err.Error(), "refused by test") {
		t.Errorf("refused push: %v", err)
	}
	repo2, _ := attest.Repository(ref2)
	if _, err := attest.Fetch(ctx, repo2, attest.SigTag(res.IndexDigest)); !errors.Is(err, attest.ErrNotFound) {
		t.Errorf("a signature was left tagged after a failed push: %v", err)
	}
	if _, err := evidence.Verify(ctx, ref2, s.Verifier()); err == nil || !strings.Contains(err.Error(), "signature: ") || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unsigned image: %v", err)
	}
}
