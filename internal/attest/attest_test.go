package attest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/temper-dev/temper/internal/attest"
)

func TestKeys(t *testing.T) {
	priv, pub, err := attest.GenerateKeyPair([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := pem.Decode(priv); b == nil || b.Type != "ENCRYPTED SIGSTORE PRIVATE KEY" {
		t.Fatalf("private key PEM %q", priv)
	}
	var enc map[string]any
	b, _ := pem.Decode(priv)
	if err := json.Unmarshal(b.Bytes, &enc); err != nil || enc["kdf"].(map[string]any)["name"] != "scrypt" || enc["cipher"].(map[string]any)["name"] != "nacl/secretbox" {
		t.Fatalf("encrypted key JSON %s: %v", b.Bytes, err)
	}
	s, err := attest.LoadPrivateKey(priv, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := attest.LoadPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := s.Sign([]byte("hello"))
	if !v.Verify([]byte("hello"), sig) || v.Verify([]byte("hellO"), sig) {
		t.Error("signature check")
	}
	if _, err := attest.LoadPrivateKey(priv, []byte("wrong")); !errors.Is(err, attest.ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}
	// cosign v1's PEM type holds the same JSON.
	v1 := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED COSIGN PRIVATE KEY", Bytes: b.Bytes})
	if _, err := attest.LoadPrivateKey(v1, []byte("pw")); err != nil {
		t.Errorf("cosign v1 key: %v", err)
	}
	for _, bad := range [][]byte{[]byte("garbage"), pub} {
		if _, err := attest.LoadPrivateKey(bad, []byte("pw")); err == nil {
			t.Errorf("%q accepted as a private key", bad)
		}
	}
	if _, err := attest.LoadPublicKey(priv); err == nil {
		t.Error("private key accepted as public")
	}
}

func TestDSSE(t *testing.T) {
	priv, _, _ := attest.GenerateKeyPair(nil)
	s, _ := attest.LoadPrivateKey(priv, nil)
	if got := string(attest.PAE("a/b", []byte("hi"))); got != "DSSEv1 3 a/b 2 hi" {
		t.Errorf("PAE %q", got)
	}
	env, err := attest.SignEnvelope(s, attest.PayloadTypeInToto, []byte(`{"x":1}`))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(env)
	if _, payload, err := attest.VerifyEnvelope(s.Verifier(), raw); err != nil || string(payload) != `{"x":1}` {
		t.Errorf("verify: %s %v", payload, err)
	}
	env.Payload = "eyJ4IjoyfQ==" // {"x":2}
	raw, _ = json.Marshal(env)
	if _, _, err := attest.VerifyEnvelope(s.Verifier(), raw); err == nil {
		t.Error("tampered payload verified")
	}
}

const digest = "sha256:0123456789012345678901234567890123456789012345678901234567890123"

func bundle(t *testing.T, s *attest.Signer, repo string) *attest.Bundle {
	sigL, err := attest.SignatureLayer(s, repo, digest)
	if err != nil {
		t.Fatal(err)
	}
	st, err := attest.NewStatement(attest.PredicateSLSA1, []byte(`{"buildDefinition":{}}`), attest.DigestSubject(repo, digest))
	if err != nil {
		t.Fatal(err)
	}
	attL, err := attest.AttestationLayer(s, attest.PredicateSLSA1, st)
	if err != nil {
		t.Fatal(err)
	}
	sigImg, _ := attest.Image([]attest.Layer{sigL})
	attImg, _ := attest.Image([]attest.Layer{attL})
	return &attest.Bundle{Signatures: []attest.Artifact{{Tag: attest.SigTag(digest), Image: sigImg}}, Attestations: []attest.Artifact{{Tag: attest.AttTag(digest), Image: attImg}}}
}

func TestPushFetchVerify(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	repo, err := attest.Repository(host + "/temper/tool:1")
	if err != nil {
		t.Fatal(err)
	}
	priv, _, _ := attest.GenerateKeyPair(nil)
	s, _ := attest.LoadPrivateKey(priv, nil)
	ctx := context.Background()
	if err := bundle(t, s, repo.String()).Push(ctx, repo); err != nil {
		t.Fatal(err)
	}
	if attest.SigTag(digest) != "sha256-0123456789012345678901234567890123456789012345678901234567890123.sig" {
		t.Error(attest.SigTag(digest))
	}
	sigImg, err := attest.Fetch(ctx, repo, attest.SigTag(digest))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := attest.VerifySignatures(sigImg, digest, s.Verifier()); n != 1 || err != nil {
		t.Errorf("verify: %d %v", n, err)
	}
	other, _, _ := attest.GenerateKeyPair(nil)
	o, _ := attest.LoadPrivateKey(other, nil)
	if _, err := attest.VerifySignatures(sigImg, digest, o.Verifier()); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("other key: %v", err)
	}
	if _, err := attest.VerifySignatures(sigImg, strings.Replace(digest, "0123", "9999", 1), s.Verifier()); err == nil || !strings.Contains(err.Error(), "signs sha256:0123") {
		t.Errorf("other digest: %v", err)
	}
	m, _ := sigImg.Manifest()
	if m.Layers[0].MediaType != attest.MediaTypeSimpleSigning || m.Layers[0].Annotations[attest.AnnotationSignature] == "" {
		t.Errorf("sig manifest %+v", m)
	}
	attImg, err := attest.Fetch(ctx, repo, attest.AttTag(digest))
	if err != nil {
		t.Fatal(err)
	}
	sts, err := attest.VerifyAttestations(attImg, digest, s.Verifier())
	if err != nil || len(sts) != 1 || sts[0].PredicateType != attest.PredicateSLSA1 {
		t.Errorf("attestations %+v %v", sts, err)
	}
	if _, err := attest.VerifyAttestations(attImg, digest, o.Verifier()); err == nil {
		t.Error("attestation verified with another key")
	}
	if _, err := attest.Fetch(ctx, repo, attest.SigTag(strings.Replace(digest, "0123", "4444", 1))); !errors.Is(err, attest.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}

	// The layout output.
	dir := t.TempDir()
	if err := bundle(t, s, "tool").WriteLayout(dir, "tool"); err != nil {
		t.Fatal(err)
	}
	if err := bundle(t, s, "tool").WriteLayout(dir, "tool"); err != nil { // replaced, not duplicated
		t.Fatal(err)
	}
	p, _ := layout.FromPath(dir)
	ii, _ := p.ImageIndex()
	im, _ := ii.IndexManifest()
	if len(im.Manifests) != 2 {
		t.Fatalf("layout has %d entries", len(im.Manifests))
	}
	var names []string
	for _, d := range im.Manifests {
		names = append(names, d.Annotations["org.opencontainers.image.ref.name"])
	}
	if !bytes.Contains([]byte(strings.Join(names, ",")), []byte("tool:sha256-0123")) {
		t.Errorf("names %v", names)
	}
}

func TestProvenance(t *testing.T) {
	p := attest.NewProvenance(attest.ProvenanceInput{DefinitionFile: "python.yaml", DefinitionSHA256: "aa", LockFile: "python.lock.yaml", LockSHA256: "bb",
		Dependencies: []attest.ResourceDescriptor{{URI: "http://mirror.test/debian/pool/x.deb", Digest: map[string]string{"sha256": "cc"}}}, BuilderVersion: "1.0"})
	raw, _ := json.Marshal(p)
	for _, want := range []string{`"buildType":"` + attest.BuildTypeTemper, `"lock":{"digest":{"sha256":"bb"},"name":"python.lock.yaml"}`, `"resolvedDependencies":[{"uri":"http://mirror.test/debian/pool/x.deb","digest":{"sha256":"cc"}}]`, `"builder":{"id":"` + attest.BuilderIDTemper + `","version":{"temper":"1.0"}}`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("provenance lacks %s:\n%s", want, raw)
		}
	}
	st, _ := attest.NewStatement(attest.PredicateSLSA1, raw, attest.DigestSubject("r", digest))
	if !strings.HasPrefix(string(st), `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"r","digest":{"sha256":"0123`) {
		t.Errorf("statement %s", st)
	}
}
