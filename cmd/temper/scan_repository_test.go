package main

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/sbom"
)

// repoScanReport is what these tests read of temper scan --json.
type repoScanReport struct {
	Images []struct {
		Definition, Name, Release, Error string
		ReadFrom                         string `json:"read_from"`
		Warnings                         []string
		Findings                         []struct{ ID, Source, Status string }
		NotCovered                       []struct {
			Source        string   `json:"source"`
			SourceVersion string   `json:"source_version"`
			Packages      []string `json:"packages"`
			Repository    string   `json:"repository"`
			Status        string   `json:"status"`
			Reason        string   `json:"reason"`
		} `json:"not_covered"`
		Gate struct{ Passed bool }
	}
}

// repoEnv is a lock taking phpx and tool from a designated repository
// (made by reprepro), other and libc6 from Debian, and tracker data for
// them.
type repoEnv struct {
	*scanEnv
	f                        *buildtest.RepoFixture
	dir, def, cacheDir, data string
}

func newRepoEnv(t *testing.T) *repoEnv {
	t.Helper()
	e := newScanEnv(t)
	f := buildtest.NewRepoFixture(t,
		buildtest.RepoDeb(t, "phpx", "8.3.10-1+repo1", "libc6", debtest.File{Path: "./usr/bin/phpx", Mode: 0o755, Data: []byte("phpx")}),
		// Newer than Debian's tool 1.0 and pinned: the image's tool is the
		// repository's, whose status.d reads like Debian's.
		buildtest.RepoDeb(t, "tool", "9.0+repo1", "libc6", debtest.File{Path: "./usr/bin/tool", Mode: 0o755, Data: []byte("tool from the repository")}),
	)
	dir := t.TempDir()
	f.WriteKey(t, dir)
	def := buildtest.WriteDef(t, dir, "phpx.yaml", "name: phpx\nversion: \"8.3\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [phpx, tool, other]\n"+
		f.RepositoryBlock("    pins:\n      - packages: [\"phpx*\", tool]\n        priority: 990\n    default_priority: 100\n"))
	cacheDir := t.TempDir()
	ctx := context.Background()
	if outs, err := lock.Run(ctx, []string{def}, lock.Options{Client: f.Client(cacheDir)}); err != nil || outs[0].Err != nil {
		t.Fatalf("lock: %v %+v", err, outs)
	}
	// Debian's data would call the repository's tool fixed (silently
	// clean) and its phpx fixable: both wrong, its versions are not
	// Debian's. other is Debian's: its open finding stays.
	tracker := filepath.Join(e.dir, "data", "repo.json")
	os.WriteFile(tracker, []byte(`{
  "tool": {"CVE-2025-10": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "1.5", "urgency": "high"}}}},
  "phpx": {"CVE-2025-11": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "8.3.20-1", "urgency": "high"}}}},
  "other": {"CVE-2025-2": {"releases": {"bookworm": {"status": "open", "urgency": "low"}}}}
}`), 0o644)
	os.Chtimes(tracker, e.now, e.now)
	return &repoEnv{scanEnv: e, f: f, dir: dir, def: def, cacheDir: cacheDir, data: tracker}
}

// wantNotCovered is the not_covered list of every scan of the lock or of
// an image built from it that records its origins.
const wantNotCovered = `[{"source":"phpx","source_version":"8.3.10-1+repo1","packages":["phpx"],"repository":"repo","status":"not-covered","reason":"not covered by Debian's security data (from designated repository repo)"},` +
	`{"source":"tool","source_version":"9.0+repo1","packages":["tool"],"repository":"repo","status":"not-covered","reason":"not covered by Debian's security data (from designated repository repo)"}]`

// scanJSON runs temper scan --json with the env's tracker data.
func (e *repoEnv) scanJSON(t *testing.T, args ...string) repoScanReport {
	t.Helper()
	out, st, err := e.run(t, append([]string{"scan", "--json", "--tracker", e.data}, args...)...)
	var rep repoScanReport
	if jerr := json.Unmarshal([]byte(out), &rep); jerr != nil || len(rep.Images) != 1 {
		t.Fatalf("scan %v: %d %v %v\n%s", args, st, err, jerr, out)
	}
	return rep
}

// TestScanLayoutRepository: an image built from a lock that takes phpx
// and tool from a designated repository (made by reprepro) records so on
// its index, and temper scan --layout gives the verdicts of the scan of
// the lock: the repository's phpx and tool not covered by Debian's data
// (naming the repository), Debian's other matched as before. Without the
// record (the index an older temper wrote) the layout is scanned as
// before, every package as Debian's, with a warning that coverage could
// not be told; a record that does not describe the image is an error.
func TestScanLayoutRepository(t *testing.T) {
	r := newRepoEnv(t)
	e, f, dir, def, cacheDir, tracker := r, r.f, r.dir, r.def, r.cacheDir, r.data
	ctx := context.Background()
	layout := filepath.Join(dir, "layout")
	if _, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(cacheDir), Output: layout}); err != nil {
		t.Fatal(err)
	}
	idx, err := oci.ReadLayoutRef(layout, "phpx:8.3")
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if got := im.Annotations[sbom.AnnotationRepositories]; got != `{"amd64":{"repo":["phpx","tool"]}}` {
		t.Errorf("index annotation %s = %q", sbom.AnnotationRepositories, got)
	}

	fromLock := r.scanJSON(t, def)
	fromLayout := r.scanJSON(t, "--layout", layout+":phpx:8.3")
	lk, ly := fromLock.Images[0], fromLayout.Images[0]
	if lk.Error != "" || ly.Error != "" {
		t.Fatalf("errors: lock %q, layout %q", lk.Error, ly.Error)
	}
	for name, img := range map[string]any{"lock": lk.NotCovered, "layout": ly.NotCovered} {
		if got, _ := json.Marshal(img); string(got) != wantNotCovered {
			t.Errorf("%s scan: not_covered %s\nwant %s", name, got, wantNotCovered)
		}
	}
	if !reflect.DeepEqual(lk.Findings, ly.Findings) || len(ly.Findings) != 1 || ly.Findings[0].ID != "CVE-2025-2" || ly.Findings[0].Source != "other" {
		t.Errorf("findings: lock %+v, layout %+v; want CVE-2025-2 in other only", lk.Findings, ly.Findings)
	}
	if lk.Gate.Passed != ly.Gate.Passed || !ly.Gate.Passed {
		t.Errorf("gate: lock %v, layout %v", lk.Gate.Passed, ly.Gate.Passed)
	}
	if len(ly.Warnings) != 0 || ly.ReadFrom != "status.d" {
		t.Errorf("layout with the record: warnings %q, read_from %q", ly.Warnings, ly.ReadFrom)
	}
	text, st, err := e.run(t, "scan", "--tracker", tracker, "--layout", layout+":phpx:8.3")
	if err != nil || st != 0 || !strings.Contains(text, "1 findings: open 1 | low 1; 2 source packages not covered by Debian's security data\n") ||
		!strings.Contains(text, "  not-covered tool 9.0+repo1 (tool): not covered by Debian's security data (from designated repository repo)\n") || strings.Contains(text, "warning:") {
		t.Errorf("text: %d %v\n%s", st, err, text)
	}

	// The index an older temper wrote: the same images, no record.
	ann := maps.Clone(im.Annotations)
	delete(ann, sbom.AnnotationRepositories)
	old := rewriteIndex(t, idx, ann, filepath.Join(dir, "old"))
	fromOld := r.scanJSON(t, "--layout", old+":phpx:8.3")
	o := fromOld.Images[0]
	if o.Error != "" || len(o.NotCovered) != 0 || len(o.Warnings) != 1 || !strings.Contains(o.Warnings[0], "coverage could not be told") {
		t.Fatalf("layout without the record: %+v", o)
	}
	got := map[string]string{}
	for _, fd := range o.Findings {
		got[fd.ID] = fd.Source + " " + fd.Status
	}
	// As before this change: the repository's phpx matched as Debian's
	// (fixable), its tool taken for fixed.
	if len(got) != 2 || got["CVE-2025-11"] != "phpx fixable" || got["CVE-2025-2"] != "other open" {
		t.Errorf("layout without the record: findings %v", got)
	}
	text, _, _ = e.run(t, "scan", "--tracker", tracker, "--layout", old+":phpx:8.3")
	if !strings.Contains(text, "\n  warning: coverage could not be told: the image index has no dev.temper.repositories annotation") {
		t.Errorf("text without the record:\n%s", text)
	}

	// A record naming a package the image does not hold: not scanned.
	ann[sbom.AnnotationRepositories] = `{"amd64":{"repo":["phpx","php9"]}}`
	bad := rewriteIndex(t, idx, ann, filepath.Join(dir, "bad"))
	out, st, err := e.run(t, "scan", "--tracker", tracker, "--layout", bad+":phpx:8.3")
	if st != 1 || err == nil || !strings.Contains(out, "records php9 from repository repo, which the amd64 image does not hold") || !strings.Contains(out, "gate: FAILED (not scanned)") {
		t.Errorf("a record that does not describe the image: %d %v\n%s", st, err, out)
	}
}

// TestScanLayoutDebianOnly: an image built from Debian's archive alone
// records an empty set of origins, so its scan gives its lock's findings
// without a warning; the same image under an index without the record (as
// tempers before build format 5 wrote it) gets the warning that coverage
// could not be told.
func TestScanLayoutDebianOnly(t *testing.T) {
	e := newScanEnv(t)
	f := buildtest.NewFixture(t)
	def, ctx := lockedTool(t, f)
	layout := filepath.Join(t.TempDir(), "images")
	if _, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(t.TempDir()), Output: layout}); err != nil {
		t.Fatal(err)
	}
	idx, _ := oci.ReadLayoutRef(layout, "tool:1")
	im, err := idx.IndexManifest()
	if err != nil || im.Annotations[sbom.AnnotationRepositories] != `{"amd64":{}}` {
		t.Fatalf("a Debian-only index records no empty set of origins: %v %v", err, im.Annotations)
	}
	ann := map[string]string{}
	for k, v := range im.Annotations {
		ann[k] = v
	}
	delete(ann, sbom.AnnotationRepositories)
	old := rewriteIndex(t, idx, ann, filepath.Join(t.TempDir(), "old"))
	tracker := filepath.Join(e.dir, "data", "other.json")
	os.WriteFile(tracker, []byte(`{"other": {"CVE-2025-2": {"releases": {"bookworm": {"status": "open", "urgency": "low"}}}}}`), 0o644)
	os.Chtimes(tracker, e.now, e.now)
	var reps [3]repoScanReport
	for i, arg := range [][]string{{def}, {"--layout", layout + ":tool:1"}, {"--layout", old + ":phpx:8.3"}} {
		out, st, err := e.run(t, append([]string{"scan", "--json", "--tracker", tracker}, arg...)...)
		if err != nil || st != 0 || json.Unmarshal([]byte(out), &reps[i]) != nil || len(reps[i].Images) != 1 {
			t.Fatalf("scan %v: %d %v\n%s", arg, st, err, out)
		}
	}
	lk, ly, lo := reps[0].Images[0], reps[1].Images[0], reps[2].Images[0]
	if !reflect.DeepEqual(lk.Findings, ly.Findings) || len(ly.Findings) != 1 || len(lk.Warnings) != 0 || len(ly.Warnings) != 0 {
		t.Errorf("lock %+v\nlayout %+v", lk, ly)
	}
	if !reflect.DeepEqual(lk.Findings, lo.Findings) || len(lo.Warnings) != 1 || !strings.Contains(lo.Warnings[0], "coverage could not be told") {
		t.Errorf("an index without the record: %+v", lo)
	}
}

// rewriteIndex writes idx's platform images under a new index with the
// annotations ann (oci.Index, as temper builds) into a layout at dir,
// named phpx:8.3, and returns dir.
func rewriteIndex(t *testing.T, idx v1.ImageIndex, ann map[string]string, dir string) string {
	t.Helper()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var images []v1.Image
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		images = append(images, img)
	}
	nidx, err := oci.Index(images, ann)
	if err != nil {
		t.Fatal(err)
	}
	if err := oci.WriteLayout(dir, nidx, "phpx:8.3"); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestScanImageRepository: temper scan --image gives the lock's verdicts
// for an image built from it and pushed to a registry, whether its
// packages are read from its layers' status.d (unsigned) or from its
// verified SPDX attestation (--key): the index records the origins in both
// cases.
func TestScanImageRepository(t *testing.T) {
	r := newRepoEnv(t)
	ctx := context.Background()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	unsigned, signed := host+"/temper/phpx:8.3", host+"/signed/phpx:8.3"
	if _, err := build.Build(ctx, r.def, build.Options{Fetcher: r.f.Fetcher(r.cacheDir), Push: unsigned}); err != nil {
		t.Fatal(err)
	}
	priv, pub, _ := attest.GenerateKeyPair([]byte("pw"))
	s, _ := attest.LoadPrivateKey(priv, []byte("pw"))
	if _, err := build.Build(ctx, r.def, build.Options{Fetcher: r.f.Fetcher(r.cacheDir), Push: signed, Signer: s}); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(r.dir, "cosign.pub")
	os.WriteFile(keyFile, pub, 0o644)
	lk := r.scanJSON(t, r.def).Images[0]
	for _, c := range []struct{ ref, from string }{{unsigned, "status.d"}, {signed, "spdx-attestation"}} {
		im := r.scanJSON(t, "--key", keyFile, "--image", c.ref).Images[0]
		got, _ := json.Marshal(im.NotCovered)
		if im.Error != "" || im.ReadFrom != c.from || string(got) != wantNotCovered || !reflect.DeepEqual(im.Findings, lk.Findings) || len(im.Warnings) != 0 || im.Gate.Passed != lk.Gate.Passed {
			t.Errorf("%s: %+v\nnot_covered %s\nlock's findings %+v", c.ref, im, got, lk.Findings)
		}
	}

	// The signed image's index rewritten to claim Debian's other came from
	// the repository (which would hide its finding): its platforms'
	// attestations still verify, the new index is signed by nobody.
	sref, _ := name.ParseReference(signed)
	sidx, err := remote.Index(sref)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := sidx.IndexManifest()
	ann := maps.Clone(im.Annotations)
	ann[sbom.AnnotationRepositories] = `{"amd64":{"repo":["other","phpx","tool"]}}`
	var images []v1.Image
	for _, d := range im.Manifests {
		img, err := sidx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		images = append(images, img)
	}
	tampered, err := oci.Index(images, ann)
	if err != nil {
		t.Fatal(err)
	}
	tref, _ := name.ParseReference(host + "/signed/phpx:tampered")
	if err := remote.WriteIndex(tref, tampered); err != nil {
		t.Fatal(err)
	}
	out, st, err := r.run(t, "scan", "--tracker", r.data, "--key", keyFile, "--image", tref.String())
	if st != 1 || err == nil || !strings.Contains(out, "has no signature, though its platforms' attestations verify with the key") || !strings.Contains(out, "gate: FAILED (not scanned)") {
		t.Errorf("a tampered signed index: %d %v\n%s", st, err, out)
	}
}
