package build_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/vuln"
	"github.com/temper-dev/temper/internal/vuln/openvex"
	"github.com/temper-dev/temper/internal/vuln/policy"
)

// gateTracker names the fixture's packages: other 2.0 has a KEV CVE fixed
// in 2.1 (fixable, so the gate blocks it); tool 1.0 has one fixed in 0.9.
const gateTracker = `{
 "other": {"CVE-2025-48384": {"description": "link following", "releases": {
   "bookworm": {"status": "resolved", "repositories": {"bookworm": "2.0"}, "fixed_version": "2.1", "urgency": "low"}}}},
 "tool": {"CVE-2024-0001": {"description": "old", "releases": {
   "bookworm": {"status": "resolved", "repositories": {"bookworm": "1.0"}, "fixed_version": "0.9", "urgency": "medium"}}}}
}`

// TestSignedBuildGate: a signed build into a layout is refused by a KEV
// finding that Debian has fixed, and writes nothing; with --skip-gate
// --reason it is built, the provenance records the reason and the
// violation it let through, and the index carries a signed OpenVEX
// attestation with the image's purl and the fixed verdict.
func TestSignedBuildGate(t *testing.T) {
	f := buildtest.NewFixture(t)
	dir := t.TempDir()
	def := buildtest.WriteDef(t, dir, "tool.yaml", "name: tool\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool, other]\n")
	if outs, err := lock.Run(context.Background(), []string{def}, lock.Options{Client: f.Client(t.TempDir())}); err != nil || outs[0].Err != nil {
		t.Fatalf("lock: %v %+v", err, outs)
	}
	tracker := filepath.Join(dir, "tracker.json")
	os.WriteFile(tracker, []byte(gateTracker), 0o644)
	now := time.Now()
	c, _ := cache.Open(t.TempDir())
	load := func() (*vuln.DB, error) {
		return vuln.Load(c, vuln.Files{Tracker: tracker, KEV: "../vuln/testdata/kev.json"}, now)
	}
	s := signer(t)
	out := filepath.Join(dir, "layout")
	opt := build.Options{Fetcher: f.Fetcher(t.TempDir()), Output: out, Signer: s}

	var err error
	if opt.Gate, err = policy.NewBuildGate(load, &policy.Policy{}, nil, now, true, ""); err != nil {
		t.Fatal(err)
	}
	_, err = build.Build(context.Background(), def, opt)
	var refused *policy.RefusedError
	if !errors.As(err, &refused) || len(refused.Violations) != 1 || refused.Violations[0].Rule != "kev" || !strings.Contains(err.Error(), "CVE-2025-48384 [kev]") || !strings.Contains(err.Error(), "--skip-gate --reason") {
		t.Fatalf("refused build: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused build wrote its layout: %v", err)
	}

	const reason = "CVE-2025-48384 needs a crafted .gitmodules; no git in this image"
	if opt.Gate, err = policy.NewBuildGate(load, &policy.Policy{}, nil, now, true, reason); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	opt.Log = &log
	res, err := build.Build(context.Background(), def, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "vulnerability gate skipped (--skip-gate: "+reason+"): 1 violations not enforced: CVE-2025-48384") || !strings.Contains(log.String(), "attached provenance and OpenVEX") {
		t.Errorf("log:\n%s", log.String())
	}
	sts := indexStatements(t, out, res.IndexDigest, s)
	var prov attest.Provenance
	json.Unmarshal(sts[attest.PredicateSLSA1], &prov)
	gate, _ := json.Marshal(prov.BuildDefinition.ExternalParameters["vulnerabilityGate"])
	if !strings.Contains(string(gate), `"reason":"`+reason+`"`) || !strings.Contains(string(gate), `"violations":["CVE-2025-48384"]`) {
		t.Errorf("provenance's vulnerabilityGate: %s", gate)
	}
	var doc openvex.Doc
	if err := json.Unmarshal(sts[openvex.PredicateType], &doc); err != nil {
		t.Fatalf("OpenVEX attestation: %v", err)
	}
	product := "pkg:oci/tool@" + strings.Replace(res.IndexDigest, ":", "%3A", 1)
	got := map[string]string{}
	for _, st := range doc.Statements {
		got[st.Vulnerability.Name] = st.Status
		if st.Products[0].ID != product {
			t.Errorf("product %s, want %s", st.Products[0].ID, product)
		}
	}
	if got["CVE-2025-48384"] != "affected" || got["CVE-2024-0001"] != "fixed" || len(got) != 2 {
		t.Errorf("OpenVEX statements %v", got)
	}
}

// TestGateNoData: no data refuses a publishing build with what to do;
// with a skip reason the build goes on and says so.
func TestGateNoData(t *testing.T) {
	c, _ := cache.Open(t.TempDir())
	load := func() (*vuln.DB, error) { return vuln.Load(c, vuln.Files{}, time.Now()) }
	if _, err := policy.NewBuildGate(load, &policy.Policy{}, nil, time.Now(), false, ""); err == nil || !strings.Contains(err.Error(), "run `temper vuln update`, or pass --skip-gate --reason TEXT") {
		t.Errorf("no data: %v", err)
	}
	g, err := policy.NewBuildGate(load, &policy.Policy{}, nil, time.Now(), false, "air-gapped")
	if err != nil {
		t.Fatal(err)
	}
	o, err := g.Check("x.yaml", nil)
	if err != nil || o.Image != nil || !strings.Contains(o.Summary(), "no vulnerability data, so no OpenVEX attestation") {
		t.Errorf("skipped without data: %+v %v", o, err)
	}
}

// indexStatements verifies the layout's attestations of the index and
// returns each predicate by type.
func indexStatements(t *testing.T, out, digest string, s *attest.Signer) map[string][]byte {
	t.Helper()
	p, err := layout.FromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	ii, _ := p.ImageIndex()
	im, _ := ii.IndexManifest()
	for _, d := range im.Manifests {
		if d.Annotations["org.opencontainers.image.ref.name"] != "tool:"+attest.AttTag(digest) {
			continue
		}
		img, err := p.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		return verified(t, img, digest, s)
	}
	t.Fatalf("no attestations of %s in %s", digest, out)
	return nil
}

func verified(t *testing.T, img v1.Image, digest string, s *attest.Signer) map[string][]byte {
	t.Helper()
	sts, err := attest.VerifyAttestations(img, digest, s.Verifier())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, st := range sts {
		out[st.PredicateType] = st.Statement.Predicate
	}
	return out
}

func signer(t *testing.T) *attest.Signer {
	t.Helper()
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
