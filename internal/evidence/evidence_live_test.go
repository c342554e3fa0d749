package evidence_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/livetest"
	"github.com/temper-dev/temper/internal/evidence"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/sbom"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/vuln"
	"github.com/temper-dev/temper/internal/vuln/openvex"
	"github.com/temper-dev/temper/internal/vuln/policy"
	"github.com/temper-dev/temper/internal/vuln/vulntest"
)

// TestLiveSignedPython is the proof with the ecosystem's own tools
// (CI=true or TEMPER_LIVE=1): python3 for bookworm (amd64 and arm64) is
// built from a fresh lock, signed with a key made by `cosign
// generate-key-pair`, and pushed to Debian's docker-registry on 127.0.0.1.
// Then cosign verifies the signature (and refuses another key and a
// tampered tag), verifies the SPDX, CycloneDX, SLSA v1 and OpenVEX
// attestations (the gate scanned the fresh lock against a tracker naming
// its real source versions: one fixable, one fixed), syft lists exactly the packages (name and version) of our SPDX SBOM,
// and temper verify agrees.
func TestLiveSignedPython(t *testing.T) {
	livetest.Mirrors(t)
	buildtest.Need(t, "docker-registry", "cosign", "syft")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	dir := t.TempDir()
	def := buildtest.WriteDef(t, dir, "python.yaml", `name: python
version: "3-signed"
debian:
  release: bookworm
architectures: [amd64, arm64]
packages: [python3, ca-certificates]
image:
  entrypoint: [python3]
`)
	cacheDir := t.TempDir()
	outs, err := lock.Run(ctx, []string{def}, lock.Options{Client: livetest.Client(t, cacheDir, false)})
	if err != nil || outs[0].Err != nil {
		t.Fatalf("lock: %v %v", err, outs)
	}

	// A key pair made by cosign itself, and one made by temper.
	tool := func(name string, env []string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	mustTool := func(name string, env []string, args ...string) string {
		t.Helper()
		out, err := tool(name, env, args...)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return out
	}
	pw := []string{"COSIGN_PASSWORD=live-test"}
	mustTool("cosign", pw, "generate-key-pair")
	keyPEM, _ := os.ReadFile(filepath.Join(dir, "cosign.key"))
	s, err := attest.LoadPrivateKey(keyPEM, []byte("live-test"))
	if err != nil {
		t.Fatalf("temper cannot read cosign's key: %v", err)
	}
	otherPriv, otherPub, _ := attest.GenerateKeyPair([]byte("other"))
	os.WriteFile(filepath.Join(dir, "other.key"), otherPriv, 0o600)
	os.WriteFile(filepath.Join(dir, "other.pub"), otherPub, 0o644)
	// cosign reads temper's key format: it derives the same public key.
	if got := mustTool("cosign", []string{"COSIGN_PASSWORD=other"}, "public-key", "--key", "other.key"); strings.TrimSpace(got) != strings.TrimSpace(string(otherPub)) {
		t.Errorf("cosign public-key --key other.key = %q, want %q", got, otherPub)
	}

	gate, srcs := liveGate(t, def)
	reg := buildtest.StartRegistry(t)
	ref := reg + "/temper/python:3-signed"
	sboms := filepath.Join(dir, "sboms")
	start := time.Now()
	res, err := build.Build(ctx, def, build.Options{Fetcher: buildtest.LiveFetcher(t, cacheDir), Output: filepath.Join(dir, "layout"), Push: ref, Signer: s, SBOMDir: sboms, Gate: gate})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built, signed and pushed %s (%s) in %s", ref, res.IndexDigest, time.Since(start).Round(time.Millisecond))

	insecure := []string{"--insecure-ignore-tlog", "--allow-http-registry", "--allow-insecure-registry"}
	cosign := func(args ...string) (string, error) {
		return tool("cosign", nil, append(args, insecure...)...)
	}
	mustCosign := func(args ...string) string {
		t.Helper()
		out, err := cosign(args...)
		if err != nil {
			t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	// The tag (the index), and each platform manifest by digest.
	mustCosign("verify", "--key", "cosign.pub", ref)
	for _, im := range res.Images {
		mustCosign("verify", "--key", "cosign.pub", reg+"/temper/python@"+im.Digest)
	}
	for _, typ := range []string{"spdxjson", "slsaprovenance1", "cyclonedx"} {
		out := mustCosign("verify-attestation", "--key", "cosign.pub", "--type", typ, ref)
		if !strings.Contains(out, `"payloadType":"application/vnd.in-toto+json"`) {
			t.Errorf("verify-attestation --type %s printed %.300s", typ, out)
		}
	}
	vex := openVEXStatuses(t, mustCosign("verify-attestation", "--key", "cosign.pub", "--type", "openvex", ref))
	if !strings.HasPrefix(vex[vulntest.FixableID], "affected: Update "+srcs[0]+" to ") || !strings.HasPrefix(vex[vulntest.FixedID], "fixed: Debian fixed this in "+srcs[1]+" ") {
		t.Errorf("cosign's verified OpenVEX statements %v, want %s affected in %s and %s fixed in %s", vex, vulntest.FixableID, srcs[0], vulntest.FixedID, srcs[1])
	} else {
		t.Logf("cosign verify-attestation --type openvex: %v", vex)
	}
	mustCosign("verify-attestation", "--key", "cosign.pub", "--type", "spdxjson", reg+"/temper/python@"+res.Images[1].Digest)
	if out, err := cosign("verify", "--key", "other.pub", ref); err == nil {
		t.Errorf("cosign verify accepted another key:\n%s", out)
	}
	if out, err := cosign("verify-attestation", "--key", "other.pub", "--type", "spdxjson", ref); err == nil {
		t.Errorf("cosign verify-attestation accepted another key:\n%s", out)
	}

	// cosign v3 reads the same layout (it needs a newer Go to build, so CI
	// installs it as cosign3; locally it runs when present).
	if v3, err := exec.LookPath("cosign3"); err == nil {
		cosign3 := func(args ...string) (string, error) {
			return tool(v3, nil, append(args, insecure...)...)
		}
		for _, args := range [][]string{
			{"verify", "--key", "cosign.pub", ref},
			{"verify", "--key", "cosign.pub", reg + "/temper/python@" + res.Images[0].Digest},
			{"verify-attestation", "--key", "cosign.pub", "--type", "spdxjson", ref},
			{"verify-attestation", "--key", "cosign.pub", "--type", "slsaprovenance1", ref},
			{"verify-attestation", "--key", "cosign.pub", "--type", "openvex", ref},
		} {
			if out, err := cosign3(args...); err != nil {
				t.Errorf("cosign v3 %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		if out, err := cosign3("verify", "--key", "other.pub", ref); err == nil {
			t.Errorf("cosign v3 verify accepted another key:\n%s", out)
		}
	} else if os.Getenv("CI") == "true" {
		t.Error("cosign3 (cosign v3) is not installed; .ci/run installs it")
	} else {
		t.Log("cosign3 not installed: cosign v3 not checked")
	}

	// temper verify agrees.
	rep, err := evidence.Verify(ctx, ref, s.Verifier())
	if err != nil {
		t.Fatalf("temper verify: %v", err)
	}
	for _, p := range rep.Platforms {
		t.Logf("temper verify: %s %s: %d packages, %v", p.Arch, p.Digest, p.Packages, p.Predicates)
	}

	// syft lists exactly our SBOM's packages.
	spdxFile := filepath.Join(sboms, "python-3-signed-amd64.spdx.json")
	data, err := os.ReadFile(spdxFile)
	if err != nil {
		t.Fatal(err)
	}
	listed, _, err := sbom.SPDXPackages(data)
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, l := range listed {
		ours = append(ours, l.Name+" "+l.Version)
	}
	sort.Strings(ours)
	out, err := tool("syft", []string{"SYFT_REGISTRY_INSECURE_USE_HTTP=true", "SYFT_CHECK_FOR_APP_UPDATE=false"}, "scan", "registry:"+ref, "--platform", "linux/amd64", "-o", "syft-json", "-q")
	if err != nil {
		t.Fatalf("syft: %v\n%.2000s", err, out)
	}
	var sy struct {
		Artifacts []struct{ Name, Version, Type, PURL string }
		Distro    struct{ ID, VersionID string }
	}
	if err := json.Unmarshal([]byte(out), &sy); err != nil {
		t.Fatalf("syft output: %v\n%.2000s", err, out)
	}
	var theirs []string
	for _, a := range sy.Artifacts {
		if a.Type == "deb" {
			theirs = append(theirs, a.Name+" "+a.Version)
		}
	}
	sort.Strings(theirs)
	if strings.Join(ours, "\n") != strings.Join(theirs, "\n") {
		t.Errorf("syft's deb packages differ from our SPDX SBOM:\nours (%d):\n%s\nsyft (%d):\n%s", len(ours), strings.Join(ours, "\n"), len(theirs), strings.Join(theirs, "\n"))
	} else {
		t.Logf("syft lists the same %d deb packages as our SPDX SBOM (syft distro %s %s)", len(theirs), sy.Distro.ID, sy.Distro.VersionID)
	}

	// Tampering. A .sig whose signature is another key's: cosign refuses
	// the platform manifest.
	repo, _ := attest.Repository(ref)
	otherSigner, _ := attest.LoadPrivateKey(otherPriv, []byte("other"))
	forged, _ := attest.SignatureLayer(otherSigner, repo.String(), res.Images[0].Digest)
	forgedImg, _ := attest.Image([]attest.Layer{forged})
	if err := remote.Write(repo.Tag(attest.SigTag(res.Images[0].Digest)), forgedImg, attest.RemoteOptions(ctx)...); err != nil {
		t.Fatal(err)
	}
	if out, err := cosign("verify", "--key", "cosign.pub", reg+"/temper/python@"+res.Images[0].Digest); err == nil {
		t.Errorf("cosign verify accepted a forged signature:\n%s", out)
	}
	if _, err := evidence.Verify(ctx, ref, s.Verifier()); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("temper verify accepted a forged signature: %v", err)
	}
	// The tag moved to an image nobody signed.
	img, _ := random.Image(1024, 1)
	if err := remote.Write(repo.Tag("3-signed"), img, attest.RemoteOptions(ctx)...); err != nil {
		t.Fatal(err)
	}
	if out, err := cosign("verify", "--key", "cosign.pub", ref); err == nil {
		t.Errorf("cosign verify accepted a tampered tag:\n%s", out)
	} else {
		t.Logf("cosign verify on the tampered tag fails as it should: %s", lastLine(out))
	}
	if _, err := evidence.Verify(ctx, ref, s.Verifier()); err == nil {
		t.Error("temper verify accepted a tampered tag")
	}
}

// liveGate is a build gate on a tracker naming the fresh lock's real
// source versions (vulntest.Tracker): the fixable finding is of urgency
// low, so the default policy lets it through.
func liveGate(t *testing.T, def string) (*policy.BuildGate, [2]string) {
	t.Helper()
	l, err := spec.LoadLock(spec.LockPath(def))
	if err != nil {
		t.Fatal(err)
	}
	tracker, srcs := vulntest.Tracker(l)
	file := filepath.Join(filepath.Dir(def), "tracker.json")
	if err := os.WriteFile(file, tracker, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	load := func() (*vuln.DB, error) { return vuln.Load(c, vuln.Files{Tracker: file}, now) }
	g, err := policy.NewBuildGate(load, &policy.Policy{}, nil, now, false, "")
	if err != nil {
		t.Fatal(err)
	}
	return g, srcs
}

// openVEXStatuses decodes what cosign verify-attestation printed (one DSSE
// envelope per line) and returns each OpenVEX statement's "status: action
// or notes".
func openVEXStatuses(t *testing.T, out string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var env struct{ PayloadType, Payload string }
		if json.Unmarshal([]byte(line), &env) != nil || env.Payload == "" {
			continue
		}
		payload, err := base64.StdEncoding.DecodeString(env.Payload)
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			PredicateType string
			Predicate     openvex.Doc
		}
		if err := json.Unmarshal(payload, &st); err != nil {
			t.Fatal(err)
		}
		if st.PredicateType != openvex.PredicateType || st.Predicate.Context != openvex.Context {
			t.Errorf("predicate type %s, context %s", st.PredicateType, st.Predicate.Context)
		}
		for _, s := range st.Predicate.Statements {
			got[s.Vulnerability.Name] = s.Status + ": " + s.ActionStatement + s.StatusNotes
		}
	}
	return got
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
