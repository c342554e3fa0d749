// Package apps holds the builder/runtime examples of docs/variants.md: a C
// extension compiled in a catalog stream's -dev image and run in its
// runtime image. The test builds both images with temper from the
// committed locks, loads them into podman and runs `podman build` on each
// example's multi-stage Containerfile without network. It runs under
// CI=true (the real archive's .debs and podman are needed).
package apps

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type app struct {
	dir, definition, name, version string
	args                           []string // --build-arg KEY=VALUE
}

var apps = []app{
	{"python", "python/3.11-bookworm.yaml", "python", "3.11-bookworm", []string{"PY=3.11"}},
	{"python", "python/3.13-trixie.yaml", "python", "3.13-trixie", []string{"PY=3.13"}},
	{"ruby", "ruby/3.1-bookworm.yaml", "ruby", "3.1-bookworm", nil},
	{"ruby", "ruby/3.3-trixie.yaml", "ruby", "3.3-trixie", nil},
	{"node", "nodejs/18-bookworm.yaml", "nodejs", "18-bookworm", nil},
	{"node", "nodejs/20-trixie.yaml", "nodejs", "20-trixie", nil},
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestBuilderRuntime(t *testing.T) {
	if os.Getenv("CI") != "true" {
		t.Skip("CI=true only: builds catalog images from the real archive and runs podman")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatal("podman is missing (.ci/run installs it)")
	}
	if os.Getenv("CONTAINERS_CONF") == "" {
		abs, _ := filepath.Abs("../../ci/containers.conf")
		t.Setenv("CONTAINERS_CONF", abs)
	}
	tmp := t.TempDir()
	temper := filepath.Join(tmp, "temper")
	run(t, "go", "build", "-o", temper, "../../cmd/temper")
	store := filepath.Join(tmp, "store")
	arch := strings.TrimSpace(run(t, "go", "env", "GOARCH"))
	for _, a := range apps {
		t.Run(a.dir+"/"+a.version, func(t *testing.T) {
			def := filepath.Join("../catalog", a.definition)
			rt, dev := filepath.Join(tmp, a.name+a.version+".tar"), filepath.Join(tmp, a.name+a.version+"-dev.tar")
			run(t, temper, "build", def, "-o", store, "--tarball", rt, "--tarball-arch", arch)
			run(t, temper, "build", def, "-o", store, "--variant", "dev", "--tarball", dev, "--tarball-arch", arch)
			runtimeRef := "localhost/" + a.name + ":" + a.version
			devRef := runtimeRef + "-dev"
			for _, tb := range []string{rt, dev} {
				run(t, "podman", "load", "-i", tb)
			}
			tag := "localhost/temper-app/" + a.dir + ":" + a.version
			args := []string{"build", "--network=none", "--pull=never", "-t", tag,
				"--build-arg", "DEV=" + devRef, "--build-arg", "RUNTIME=" + runtimeRef}
			for _, x := range a.args {
				args = append(args, "--build-arg", x)
			}
			run(t, "podman", append(args, "-f", filepath.Join(a.dir, "Containerfile"), a.dir)...)
			defer exec.Command("podman", "rmi", "-f", tag, runtimeRef, devRef).Run()

			out := run(t, "podman", "run", "--rm", "--read-only", "--network=none", tag)
			if !strings.Contains(out, "answer from C: 42 (uid 65532") {
				t.Errorf("the final image printed %q", out)
			}
			if user := strings.TrimSpace(run(t, "podman", "image", "inspect", "--format", "{{.Config.User}}", tag)); user != "65532:65532" {
				t.Errorf("the final image runs as %q", user)
			}
			// No shell in the final image: the runtime's hardening holds.
			if out, err := exec.Command("podman", "run", "--rm", "--network=none", "--entrypoint", "/bin/sh", tag, "-c", "true").CombinedOutput(); err == nil {
				t.Errorf("the final image has a shell:\n%s", out)
			}
		})
	}
}
