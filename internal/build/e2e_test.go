package build_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/livetest"
	"github.com/temper-dev/temper/internal/lock"
)

// The end-to-end proof with the real archive and real tools (CI=true or
// TEMPER_LIVE=1): python3 images for bookworm and trixie are built from
// fresh locks, loaded into podman and run read-only as uid 65532 without a
// shell, read by skopeo and umoci, pushed to Debian's docker-registry on
// 127.0.0.1 and pulled back by digest; arm64 is built and listed.

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+containersConf(t))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func containersConf(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "ci", "containers.conf")
}

func TestLivePythonImage(t *testing.T) {
	livetest.Mirrors(t)
	buildtest.Need(t, "podman", "skopeo", "umoci", "docker-registry")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cacheDir := t.TempDir()
	for _, release := range []string{"bookworm", "trixie"} {
		t.Run(release, func(t *testing.T) {
			dir := t.TempDir()
			archs := "[amd64]"
			if release == "bookworm" {
				archs = "[amd64, arm64]"
			}
			def := buildtest.WriteDef(t, dir, "python.yaml", fmt.Sprintf(`name: python
version: "3-%s"
debian:
  release: %s
architectures: %s
packages: [python3, ca-certificates]
image:
  entrypoint: [python3]
`, release, release, archs))
			outs, err := lock.Run(ctx, []string{def}, lock.Options{Client: livetest.Client(t, cacheDir, false)})
			if err != nil || outs[0].Err != nil {
				t.Fatalf("lock: %v %v", err, outs)
			}
			layout := filepath.Join(dir, "layout")
			tarball := filepath.Join(dir, "python.tar")
			res, err := build.Build(ctx, def, build.Options{Fetcher: buildtest.LiveFetcher(t, cacheDir), Output: layout, Tarball: tarball})
			if err != nil {
				t.Fatal(err)
			}
			for _, im := range res.Images {
				t.Logf("%s %s: %d packages, %d bytes compressed, %d uncompressed", release, im.Arch, im.Packages, im.CompressedSize, im.UncompressedSize)
			}

			// Reproducible: another cache, later, same digests.
			time.Sleep(1100 * time.Millisecond)
			again, err := build.Build(ctx, def, build.Options{Fetcher: buildtest.LiveFetcher(t, t.TempDir()), Output: filepath.Join(dir, "layout2")})
			if err != nil {
				t.Fatal(err)
			}
			if again.IndexDigest != res.IndexDigest {
				t.Fatalf("not reproducible: %s vs %s", res.IndexDigest, again.IndexDigest)
			}
			// A rebuild into the same output is a no-op.
			noop, err := build.Build(ctx, def, build.Options{Fetcher: buildtest.LiveFetcher(t, cacheDir), Output: layout})
			if err != nil || !noop.Skipped {
				t.Fatalf("rebuild was not skipped: %+v %v", noop, err)
			}

			// podman: load and run as the image's user, read-only, no network.
			loaded := run(t, "podman", "load", "-i", tarball)
			t.Log(strings.TrimSpace(loaded))
			ref := "localhost/python:3-" + release
			out := run(t, "podman", "run", "--rm", "--read-only", "--network", "none", ref,
				"-c", "import ssl, sqlite3, json, urllib.request, os; print(ssl.OPENSSL_VERSION, os.getuid(), os.getgid())")
			if !strings.Contains(out, "OpenSSL 3.") || !strings.Contains(out, " 65532 65532") {
				t.Errorf("python3 in the image printed %q", out)
			}
			cmd := exec.Command("podman", "run", "--rm", "--entrypoint", "/bin/sh", ref, "-c", "true")
			cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+containersConf(t))
			if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "/bin/sh") {
				t.Errorf("/bin/sh ran in the image: %v %s", err, out)
			}
			inspect := run(t, "podman", "image", "inspect", ref, "--format", "{{.Config.User}}")
			if strings.TrimSpace(inspect) != "65532:65532" {
				t.Errorf("user %q", inspect)
			}
			run(t, "podman", "rmi", "-f", ref)

			// The tarball in the format `docker save` writes and `docker
			// load` reads (manifest.json with RepoTags): skopeo's
			// docker-archive transport reads it as docker would and
			// finds the same layers as the layout.
			var arch struct {
				Architecture string
				Layers       []string
			}
			if err := json.Unmarshal([]byte(run(t, "skopeo", "inspect", "docker-archive:"+tarball)), &arch); err != nil {
				t.Fatal(err)
			}
			host := res.Images[0]
			for _, im := range res.Images {
				if im.Arch == runtime.GOARCH {
					host = im
				}
			}
			if arch.Architecture != host.Arch || len(arch.Layers) != host.Layers || host.Layers < 2 {
				t.Errorf("docker-archive: %+v, want the %d %s layers of the build", arch, host.Layers, host.Arch)
			}

			// skopeo reads the layout; umoci unpacks a single platform.
			raw := run(t, "skopeo", "inspect", "--raw", "oci:"+layout+":python:3-"+release)
			var idx struct {
				Manifests []struct {
					Platform struct{ Architecture string }
				}
			}
			if err := json.Unmarshal([]byte(raw), &idx); err != nil {
				t.Fatal(err)
			}
			var platforms []string
			for _, m := range idx.Manifests {
				platforms = append(platforms, m.Platform.Architecture)
			}
			if release == "bookworm" && strings.Join(platforms, ",") != "amd64,arm64" {
				t.Errorf("platforms %v, want amd64 and arm64", platforms)
			}
			if release == "trixie" {
				run(t, "umoci", "unpack", "--rootless", "--image", layout+":python:3-trixie", filepath.Join(dir, "bundle"))
				if _, err := os.Stat(filepath.Join(dir, "bundle", "rootfs", "usr", "bin", "python3")); err != nil {
					t.Errorf("umoci bundle lacks python3: %v", err)
				}
			}

			// Push to a real registry on 127.0.0.1 and pull back by digest.
			reg := buildtest.StartRegistry(t)
			pushRef := reg + "/temper/python:3-" + release
			if _, err := build.Build(ctx, def, build.Options{Fetcher: buildtest.LiveFetcher(t, cacheDir), Push: pushRef}); err != nil {
				t.Fatal(err)
			}
			pulled := run(t, "skopeo", "inspect", "--tls-verify=false", "--raw", "docker://"+reg+"/temper/python@"+res.IndexDigest)
			if !strings.Contains(pulled, "application/vnd.oci.image.index.v1+json") {
				t.Errorf("pulled index: %s", pulled)
			}
			run(t, "podman", "pull", "--tls-verify=false", reg+"/temper/python@"+res.IndexDigest)
		})
	}
}
