package evidence_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/evidence"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/spec"
)

// TestRepositoryEvidence: an image whose lock took phpx from a designated
// repository (made by reprepro, served on 127.0.0.1) and inhouse from the
// definition's local_debs, and libc6 and tool from Debian's archive.
// The SBOMs and the provenance name each package's real origin: phpx's
// purl carries the repository's name and URL, its download location and
// provenance URI are the repository's, and that URI serves exactly the
// .deb the digest names; inhouse has no download location and is named by
// its catalog path; Debian's packages are described as ever.
func TestRepositoryEvidence(t *testing.T) {
	f := buildtest.NewRepoFixture(t,
		buildtest.RepoDeb(t, "phpx", "8.3.10-1+repo1", "libc6", debtest.File{Path: "./usr/bin/phpx", Mode: 0o755, Data: []byte("phpx from the repository")}),
	)
	dir := t.TempDir()
	f.WriteKey(t, dir)
	local := debtest.Build(t, debtest.Spec{
		Control:  "Package: inhouse\nVersion: 1.0\nArchitecture: amd64\nMaintainer: T <t@example.org>\nDepends: libc6\nDescription: in-house tool\n",
		Files:    []debtest.File{{Path: "./usr/bin/inhouse", Mode: 0o755, Data: []byte("inhouse")}},
		AutoDirs: true,
	})
	os.MkdirAll(filepath.Join(dir, "debs"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "debs", "inhouse_1.0_amd64.deb"), local, 0o644); err != nil {
		t.Fatal(err)
	}
	def := buildtest.WriteDef(t, dir, "phpx.yaml", "name: phpx\nversion: \"8.3\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [phpx, inhouse, tool]\n"+
		"local_debs:\n  - debs/inhouse_1.0_amd64.deb\n"+
		f.RepositoryBlock("    pins:\n      - packages: [\"phpx*\"]\n        priority: 990\n    default_priority: 100\n"))
	cacheDir := t.TempDir()
	ctx := context.Background()
	if outs, err := lock.Run(ctx, []string{def}, lock.Options{Client: f.Client(cacheDir)}); err != nil || outs[0].Err != nil {
		t.Fatalf("lock: %v %+v", err, outs)
	}
	d, l, err := build.Load(def)
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]spec.LockedPackage{}
	for _, p := range l.Architectures["amd64"].Packages {
		pkgs[p.Name] = p
	}
	if pkgs["phpx"].Repository != "repo" || pkgs["inhouse"].Repository != spec.LocalRepository || pkgs["libc6"].Repository != "" || pkgs["tool"].Repository != "" {
		t.Fatalf("lock: %+v", pkgs)
	}
	fetcher := f.Fetcher(cacheDir)
	idx, _, _, err := build.Index(ctx, d, l, fetcher, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := build.EvidenceInput(d, l, idx)
	in.Mirrors, in.Repo = f.Mirrors, "127.0.0.1:5000/temper/phpx"
	ev, err := evidence.Make(in)
	if err != nil {
		t.Fatal(err)
	}
	distro := ev.SBOMs["amd64"].Distro
	if distro == "" {
		t.Fatal("no distro")
	}

	// Where the build fetched each .deb from: the fetcher's own URLs.
	fetchedFrom := func(p spec.LockedPackage) string {
		it := pool.Item{Suite: p.Suite, Filename: p.Filename}
		if p.Repository != "" {
			it.Base = l.RepositoryURL(p.Repository)
		}
		return fetcher.URL(it)
	}
	phpURL := fetchedFrom(pkgs["phpx"])
	if !strings.HasPrefix(phpURL, f.URL+"/pool/") {
		t.Fatalf("phpx is fetched from %s, not below the repository's %s", phpURL, f.URL)
	}
	type want struct{ purl, loc string }
	wants := map[string]want{
		"phpx":    {"pkg:deb/repo/phpx@8.3.10-1%2Brepo1?arch=amd64&distro=" + distro + "&repository_url=" + url.QueryEscape(f.URL), phpURL},
		"inhouse": {"pkg:deb/local/inhouse@1.0?arch=amd64&distro=" + distro, ""},
		"libc6":   {"pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=" + distro, fetchedFrom(pkgs["libc6"])},
		"tool":    {"pkg:deb/debian/tool@1.0?arch=amd64&distro=" + distro, fetchedFrom(pkgs["tool"])},
	}
	if !strings.HasPrefix(wants["libc6"].loc, f.Server.ArchiveURL()+"/pool/") {
		t.Fatalf("libc6 from %s", wants["libc6"].loc)
	}

	// SPDX.
	var doc struct {
		Packages []struct {
			SPDXID, Name, DownloadLocation string
			Checksums                      []struct{ Algorithm, ChecksumValue string }
			ExternalRefs                   []struct{ ReferenceType, ReferenceLocator string }
		}
	}
	if err := json.Unmarshal(ev.SBOMs["amd64"].SPDX, &doc); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, p := range doc.Packages {
		w, ok := wants[p.Name]
		if !ok || p.SPDXID == "SPDXRef-image" {
			continue
		}
		seen++
		loc := w.loc
		if loc == "" {
			loc = "NOASSERTION"
		}
		if p.ExternalRefs[0].ReferenceLocator != w.purl || p.DownloadLocation != loc || p.Checksums[0].ChecksumValue != pkgs[p.Name].SHA256 {
			t.Errorf("SPDX %s: purl %s, downloadLocation %s, sha256 %s; want %s, %s, %s", p.Name, p.ExternalRefs[0].ReferenceLocator, p.DownloadLocation, p.Checksums[0].ChecksumValue, w.purl, loc, pkgs[p.Name].SHA256)
		}
	}
	if seen != len(wants) {
		t.Errorf("SPDX lists %d of the %d packages", seen, len(wants))
	}

	// CycloneDX.
	var bom struct {
		Components []struct {
			Name, Purl         string
			Hashes             []struct{ Alg, Content string }
			ExternalReferences []struct{ Type, URL string }
		}
	}
	if err := json.Unmarshal(ev.SBOMs["amd64"].CycloneDX, &bom); err != nil {
		t.Fatal(err)
	}
	for _, c := range bom.Components {
		w := wants[c.Name]
		var refs []string
		for _, r := range c.ExternalReferences {
			refs = append(refs, r.Type+" "+r.URL)
		}
		wantRefs := ""
		if w.loc != "" {
			wantRefs = "distribution " + w.loc
		}
		if c.Purl != w.purl || strings.Join(refs, ",") != wantRefs || c.Hashes[0].Content != pkgs[c.Name].SHA256 {
			t.Errorf("CycloneDX %s: purl %s, references %v, hash %s; want %s, %q", c.Name, c.Purl, refs, c.Hashes[0].Content, w.purl, wantRefs)
		}
	}

	// Provenance: every URI serves the .deb its digest names.
	var st struct {
		Predicate attest.Provenance `json:"predicate"`
	}
	if err := json.Unmarshal(ev.Provenance, &st); err != nil {
		t.Fatal(err)
	}
	deps := st.Predicate.BuildDefinition.ResolvedDependencies
	if len(deps) != len(wants) {
		t.Fatalf("resolvedDependencies %+v", deps)
	}
	localSum := sha256.Sum256(local)
	for _, dep := range deps {
		switch dep.Name {
		case "debs/inhouse_1.0_amd64.deb":
			if dep.URI != "" || dep.Digest["sha256"] != hex.EncodeToString(localSum[:]) || dep.Annotations["repository"] != "local" {
				t.Errorf("local .deb: %+v", dep)
			}
			continue
		case "phpx_8.3.10-1+repo1_amd64.deb":
			if dep.URI != phpURL || dep.Annotations["repository"] != "repo" {
				t.Errorf("phpx: %+v, want URI %s", dep, phpURL)
			}
		default:
			if !strings.HasPrefix(dep.URI, f.Server.ArchiveURL()+"/pool/") || dep.Annotations != nil {
				t.Errorf("Debian's %s: %+v", dep.Name, dep)
			}
		}
		resp, err := http.Get(dep.URI)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sum := sha256.Sum256(body)
		if resp.StatusCode != http.StatusOK || hex.EncodeToString(sum[:]) != dep.Digest["sha256"] {
			t.Errorf("%s: %s serves %s (%d), the provenance says %s", dep.Name, dep.URI, hex.EncodeToString(sum[:]), resp.StatusCode, dep.Digest["sha256"])
		}
	}

	// A build writes the same SBOMs.
	sboms := filepath.Join(dir, "sboms")
	if _, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(cacheDir), Output: filepath.Join(dir, "out"), SBOMDir: sboms}); err != nil {
		t.Fatal(err)
	}
	spdx, err := os.ReadFile(filepath.Join(sboms, "phpx-8.3-amd64.spdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(spdx), `"downloadLocation": "`+phpURL+`"`) || !strings.Contains(string(spdx), `"referenceLocator": "`+wants["phpx"].purl+`"`) {
		t.Errorf("the build's SPDX file lacks phpx's origin:\n%s", spdx)
	}
}
