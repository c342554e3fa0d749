package build_test

import (
	"archive/tar"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/debian/release/releasetest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/oci"
)

const variantDef = `name: tool
version: "1"
debian: {release: bookworm}
architectures: [amd64]
packages: [tool]
tests:
  - name: no shell
    path: {path: /bin/sh, exists: false}
variants:
  dev:
    packages: [other]
    shell: true
    package_manager: true
    user: root
`

// variantTree reads one image's flattened tree: path → content.
func variantTree(t *testing.T, img v1.Image) map[string]string {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[strings.TrimPrefix(h.Name, "./")] = string(b)
	}
}

// TestVariantBuild: temper build builds the runtime and its dev variant,
// each its own image from its own lock; the variant keeps the shell, dpkg
// and apt with dpkg's database and apt's sources naming the build's
// mirror, runs as root and records what it relaxes; --variant gives the
// tarball to the variant.
func TestVariantBuild(t *testing.T) {
	key := releasetest.NewKeyAt(t, "variant build", "ed25519", testarchive.KeyCreation, 0)
	pkgs := []testarchive.Package{
		buildtest.DebPkg(t, "libc6", "2.36-9", "", debtest.File{Path: "./lib/x86_64-linux-gnu/libc.so.6", Mode: 0o755, Data: []byte("libc")}),
		buildtest.DebPkg(t, "tool", "1.0", "libc6", debtest.File{Path: "./usr/bin/tool", Mode: 0o755, Data: []byte("tool v1")},
			debtest.File{Path: "./bin/sh", Mode: 0o755, Data: []byte("a shell")}),
		buildtest.DebPkg(t, "other", "2.0", "libc6", debtest.File{Path: "./usr/bin/other", Mode: 0o755, Data: []byte("other")}),
		buildtest.DebPkg(t, "apt", "2.6.1", "libc6, debian-archive-keyring", debtest.File{Path: "./usr/bin/apt-get", Mode: 0o755, Data: []byte("apt")},
			debtest.File{Path: "./usr/bin/dpkg", Mode: 0o755, Data: []byte("dpkg")}),
		buildtest.DebPkg(t, "debian-archive-keyring", "2023.3", "", debtest.File{Path: "./usr/share/keyrings/debian-archive-keyring.gpg", Data: []byte("keys")}),
	}
	a := &testarchive.Archive{Signers: []*openpgp.Entity{key}, Suites: []testarchive.Suite{
		{Name: "bookworm", Architectures: []string{"amd64"}, Packages: pkgs},
		{Name: "bookworm-updates", Architectures: []string{"amd64"}},
		{Name: "bookworm-security", Archive: "debian-security", Architectures: []string{"amd64"}},
	}}
	srv := testarchive.Serve(t, a.Files(t))
	dir := t.TempDir()
	def := buildtest.WriteDef(t, dir, "tool.yaml", variantDef)
	outs, err := lock.Run(context.Background(), []string{dir}, lock.Options{Client: srv.Client(t, t.TempDir(), key)})
	if err != nil || len(outs) != 2 || outs[0].Err != nil || outs[1].Err != nil {
		t.Fatalf("lock: %v %+v", err, outs)
	}
	c, _ := cache.Open(t.TempDir())
	h := fetch.New("test")
	h.Backoff = time.Millisecond
	store := filepath.Join(t.TempDir(), "store")
	tarball := filepath.Join(t.TempDir(), "dev.tar")
	opt := build.Options{Fetcher: &pool.Fetcher{Mirrors: srv.Mirrors(), Cache: c, HTTP: h}, Output: store, Tarball: tarball, Variant: "dev"}
	var got []build.Outcome
	build.All(context.Background(), []string{def}, opt, func(o build.Outcome) { got = append(got, o) })
	if len(got) != 2 || got[0].Err != nil || got[1].Err != nil {
		t.Fatalf("outcomes: %+v", got)
	}
	if got[0].Result.Ref != "tool:1" || got[1].Result.Ref != "tool:1-dev" || got[1].Variant != "dev" {
		t.Fatalf("refs %s %s", got[0].Result.Ref, got[1].Result.Ref)
	}
	if got[0].Result.BuildKey == got[1].Result.BuildKey {
		t.Errorf("one build key for two images")
	}
	read := func(ref string) (v1.Image, map[string]string) {
		idx, err := oci.ReadLayoutRef(store, ref)
		if err != nil {
			t.Fatal(err)
		}
		img, err := oci.ImageFor(idx, "amd64")
		if err != nil {
			t.Fatal(err)
		}
		return img, variantTree(t, img)
	}
	rimg, rt := read("tool:1")
	dimg, dv := read("tool:1-dev")
	for _, p := range []string{"usr/bin/sh", "usr/bin/other", "usr/bin/apt-get", "var/lib/dpkg/status", "etc/apt/sources.list.d/debian.sources"} {
		if _, ok := rt[p]; ok {
			t.Errorf("runtime has %s", p)
		}
		if _, ok := dv[p]; !ok {
			t.Errorf("dev lacks %s", p)
		}
	}
	if _, ok := rt["var/lib/dpkg/status.d/tool"]; !ok {
		t.Errorf("runtime lacks status.d")
	}
	if !strings.Contains(dv["var/lib/dpkg/status"], "Package: tool\nStatus: install ok installed\n") ||
		!strings.Contains(dv["var/lib/dpkg/info/tool.list"], "/usr/bin/tool\n") {
		t.Errorf("dpkg database:\n%s\n%s", dv["var/lib/dpkg/status"], dv["var/lib/dpkg/info/tool.list"])
	}
	src := dv["etc/apt/sources.list.d/debian.sources"]
	for _, want := range []string{"URIs: " + srv.Mirrors().Archive + "\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
		"URIs: " + srv.Mirrors().Security + "\nSuites: bookworm-security\n"} {
		if !strings.Contains(src, want) {
			t.Errorf("sources lack %q:\n%s", want, src)
		}
	}
	rcf, _ := rimg.ConfigFile()
	dcf, _ := dimg.ConfigFile()
	if rcf.Config.User != "65532:65532" || dcf.Config.User != "0:0" {
		t.Errorf("users %q %q", rcf.Config.User, dcf.Config.User)
	}
	if dcf.Config.Labels[build.AnnotationRelaxed] != "shell,package-manager,root" || dcf.Config.Labels["dev.temper.variant"] != "dev" || rcf.Config.Labels[build.AnnotationRelaxed] != "" {
		t.Errorf("labels: runtime %v, dev %v", rcf.Config.Labels, dcf.Config.Labels)
	}
	// The shared packages' layers are the runtime's (docs/layers.md).
	rl, _ := rimg.Layers()
	dl, _ := dimg.Layers()
	shared := map[v1.Hash]bool{}
	for _, l := range rl {
		d, _ := l.Digest()
		shared[d] = true
	}
	n := 0
	for _, l := range dl {
		if d, _ := l.Digest(); shared[d] {
			n++
		}
	}
	t.Logf("runtime %d layers, dev %d layers, %d shared", len(rl), len(dl), n)
	// The tarball is the variant's.
	data, err := os.ReadFile(tarball)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(strings.NewReader(string(data)))
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no manifest.json in the tarball: %v", err)
		}
		if h.Name == "manifest.json" {
			var m []struct{ RepoTags []string }
			b, _ := io.ReadAll(tr)
			if err := json.Unmarshal(b, &m); err != nil || len(m) != 1 || len(m[0].RepoTags) != 1 || !strings.HasSuffix(m[0].RepoTags[0], "tool:1-dev") {
				t.Errorf("tarball manifest: %s", b)
			}
			break
		}
	}
	// A second build of both is a no-op.
	opt.Tarball, opt.Variant = "", ""
	got = nil
	build.All(context.Background(), []string{def}, opt, func(o build.Outcome) { got = append(got, o) })
	if len(got) != 2 || !got[0].Result.Skipped || !got[1].Result.Skipped {
		t.Errorf("rebuild: %+v", got)
	}
}
