package evidence_test

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/evidence"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/vuln"
	"github.com/temper-dev/temper/internal/vuln/openvex"
	"github.com/temper-dev/temper/internal/vuln/policy"
)

// TestVerifyOpenVEX: a build that ran the gate pushes an OpenVEX
// attestation that temper verify checks and reports; an OpenVEX
// attestation signed by the key but about another image, one that is not
// an OpenVEX document, and one whose subject is another digest each fail
// verification, named.
func TestVerifyOpenVEX(t *testing.T) {
	f := buildtest.NewFixture(t)
	dir := t.TempDir()
	def := buildtest.WriteDef(t, dir, "tool.yaml", "name: tool\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool, other]\n")
	ctx := context.Background()
	if outs, err := lock.Run(ctx, []string{def}, lock.Options{Client: f.Client(t.TempDir())}); err != nil || outs[0].Err != nil {
		t.Fatalf("lock: %v %+v", err, outs)
	}
	tracker := filepath.Join(dir, "tracker.json")
	os.WriteFile(tracker, []byte(`{"other": {"CVE-2025-2": {"description": "d", "releases": {"bookworm": {"status": "open", "urgency": "low"}}}},
 "tool": {"CVE-2024-1": {"description": "old", "releases": {"bookworm": {"status": "resolved", "fixed_version": "0.9", "urgency": "medium"}}}}}`), 0o644)
	now := time.Now()
	c, _ := cache.Open(t.TempDir())
	gate, err := policy.NewBuildGate(func() (*vuln.DB, error) { return vuln.Load(c, vuln.Files{Tracker: tracker}, now) }, &policy.Policy{}, nil, now, true, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/temper/tool:1"
	s := signer(t)
	res, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(t.TempDir()), Push: ref, Signer: s, Gate: gate})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := evidence.Verify(ctx, ref, s.Verifier())
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if v := rep.OpenVEX; v == nil || v.Statements != 2 || v.ByStatus["affected"] != 1 || v.ByStatus["fixed"] != 1 || v.Summary() != "2 statements (affected 1, fixed 1)" {
		t.Fatalf("OpenVEX report %+v", rep.OpenVEX)
	}

	// Replace the index's attestations with one OpenVEX statement signed
	// by the key: about another image, not OpenVEX, about another digest.
	repo, _ := attest.Repository(ref)
	other := "sha256:" + strings.Repeat("ab", 32)
	doc := func(product string) string {
		return `{"@context": "` + openvex.Context + `", "@id": "x", "author": "a", "timestamp": "2026-01-01T00:00:00Z", "version": 1,
 "statements": [{"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "` + product + `"}], "status": "fixed"}]}`
	}
	for _, tc := range []struct{ name, predicate, subject, want string }{
		{"another image's product", doc(openvex.ImagePURL("tool", other)), res.IndexDigest, "OpenVEX attestation: statement 0 (CVE-1): product pkg:oci/tool@sha256%3Aabab"},
		{"not OpenVEX", `{"@context": "https://example.org/not-vex", "statements": []}`, res.IndexDigest, `OpenVEX attestation: @context "https://example.org/not-vex"`},
		{"another subject", doc(openvex.ImagePURL("tool", res.IndexDigest)), other, "the statement's subjects do not include " + res.IndexDigest},
	} {
		st, err := attest.NewStatement(openvex.PredicateType, []byte(tc.predicate), attest.DigestSubject(repo.String(), tc.subject))
		if err != nil {
			t.Fatal(err)
		}
		layer, err := attest.AttestationLayer(s, openvex.PredicateType, st)
		if err != nil {
			t.Fatal(err)
		}
		img, _ := attest.Image([]attest.Layer{layer})
		if err := remote.Write(repo.Tag(attest.AttTag(res.IndexDigest)), img); err != nil {
			t.Fatal(err)
		}
		if _, err := evidence.Verify(ctx, ref, s.Verifier()); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "index "+res.IndexDigest) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestCheckOpenVEX(t *testing.T) {
	const d = "sha256:0123"
	p := openvex.ImagePURL("x", d)
	st := func(body string) []byte {
		return []byte(`{"@context": "` + openvex.Context + `", "@id": "i", "timestamp": "t", "statements": [{"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "` + p + `"}], ` + body + `}]}`)
	}
	for body, want := range map[string]string{
		`"status": "not_affected"`: "not_affected without a justification",
		`"status": "affected"`:     "affected without an action statement",
		`"status": "vulnerable"`:   `status "vulnerable" is not an OpenVEX status`,
		`"status": "not_affected", "justification": "component_not_present"`: "",
		`"status": "affected", "action_statement": "update"`:                 "",
	} {
		_, err := evidence.CheckOpenVEX(st(body), d)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
}
