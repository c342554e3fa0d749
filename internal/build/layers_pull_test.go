package build_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/livetest"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/oci"
)

// TestLivePullFetchesOnlyOwnLayers (CI=true): two images of one release
// pushed to Debian's docker-registry on 127.0.0.1; podman, with empty
// storage of its own, pulls the first, then the second; the registry's
// access log shows that the second pull fetched exactly the blobs the
// first did not have: the second image's own layers and its config, none
// of the layers the two share (docs/layers.md). Then it pulls the second
// definition's dev variant, which holds its runtime's package layers: the
// pull fetches only the variant's own blobs.
func TestLivePullFetchesOnlyOwnLayers(t *testing.T) {
	livetest.Mirrors(t)
	buildtest.Need(t, "podman", "docker-registry")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cacheDir := livetest.CacheDir(t)
	dir := t.TempDir()
	defs := []string{
		buildtest.WriteDef(t, dir, "tls.yaml", "name: tls\nversion: \"12\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [libssl3, ca-certificates]\n"),
		buildtest.WriteDef(t, dir, "python.yaml", "name: python\nversion: \"3.11\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [python3, ca-certificates]\nvariants:\n  dev:\n    packages: [python3-venv]\n"),
	}
	outs, err := lock.Run(ctx, defs, lock.Options{Client: livetest.Client(t, cacheDir, false)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Err != nil {
			t.Fatalf("lock %s: %v", o.Definition, o.Err)
		}
	}
	reg, accessLog := startLoggingRegistry(t)
	var refs []string
	// The two runtimes, then the second's dev variant.
	type target struct{ def, variant string }
	targets := []target{{defs[0], ""}, {defs[1], ""}, {defs[1], "dev"}}
	layers := make([]map[string]bool, len(targets))
	for i, tg := range targets {
		def := tg.def
		ref := fmt.Sprintf("%s/temper/%s:1", reg, filepath.Base(def[:len(def)-len(".yaml")]))
		if tg.variant != "" {
			ref += "-" + tg.variant
		}
		res, err := build.Build(ctx, def, build.Options{Fetcher: buildtest.LiveFetcher(t, cacheDir), Output: filepath.Join(dir, "layout"), Push: ref, Variant: tg.variant})
		if err != nil {
			t.Fatal(err)
		}
		idx, err := oci.ReadLayoutRef(filepath.Join(dir, "layout"), res.Ref)
		if err != nil {
			t.Fatal(err)
		}
		img, err := oci.ImageFor(idx, "amd64")
		if err != nil {
			t.Fatal(err)
		}
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		layers[i] = map[string]bool{m.Config.Digest.String(): true}
		for _, l := range m.Layers {
			layers[i][l.Digest.String()] = true
		}
		refs = append(refs, ref)
	}
	var own []string
	shared := 0
	for d := range layers[1] {
		if layers[0][d] {
			shared++
		} else {
			own = append(own, d)
		}
	}
	if shared == 0 {
		t.Fatalf("the two images share no layer; the test proves nothing")
	}

	root, err := os.MkdirTemp("", "tp") // podman: a run root under 50 characters
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command("podman", "--root", filepath.Join(root, "storage"), "--runroot", filepath.Join(root, "run"), "rmi", "-a", "-f").Run()
		os.RemoveAll(root)
	})
	pull := func(ref string) map[string]bool {
		before, _ := os.ReadFile(accessLog)
		cmd := exec.Command("podman", "--root", filepath.Join(root, "storage"), "--runroot", filepath.Join(root, "run"),
			"pull", "--tls-verify=false", "--platform", "linux/amd64", ref)
		cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+containersConf(t))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("podman pull %s: %v\n%s", ref, err, out)
		}
		after, _ := os.ReadFile(accessLog)
		return blobGets(after[len(before):])
	}
	first := pull(refs[0])
	if len(first) != len(layers[0]) {
		t.Errorf("first pull fetched %d blobs, want its %d (layers and config)", len(first), len(layers[0]))
	}
	second := pull(refs[1])
	for d := range second {
		if layers[0][d] {
			t.Errorf("second pull fetched %s, a blob the first pull had", d)
		}
	}
	for _, d := range own {
		if !second[d] {
			t.Errorf("second pull did not fetch its own blob %s", d)
		}
	}
	t.Logf("second image: %d blobs, %d shared with the first; its pull fetched %d blobs (its own %d)", len(layers[1]), shared, len(second), len(own))

	// The variant after its runtime (and the first image): only its own
	// blobs, and it holds the runtime's package layers.
	had := map[string]bool{}
	for _, l := range layers[:2] {
		for d := range l {
			had[d] = true
		}
	}
	var vOwn []string
	fromRuntime := 0
	for d := range layers[2] {
		if layers[1][d] {
			fromRuntime++
		}
		if !had[d] {
			vOwn = append(vOwn, d)
		}
	}
	if fromRuntime < len(layers[1])-2 { // all but the runtime's config and, maybe, its generated layer
		t.Errorf("the variant shares %d of its runtime's %d blobs; want every package layer", fromRuntime, len(layers[1]))
	}
	third := pull(refs[2])
	for d := range third {
		if had[d] {
			t.Errorf("the variant's pull fetched %s, a blob the earlier pulls had", d)
		}
	}
	for _, d := range vOwn {
		if !third[d] {
			t.Errorf("the variant's pull did not fetch its own blob %s", d)
		}
	}
	t.Logf("variant: %d blobs, %d of them its runtime's; its pull fetched %d blobs (its own %d)", len(layers[2]), fromRuntime, len(third), len(vOwn))
}

var blobGet = regexp.MustCompile(`"GET /v2/[^ "]+/blobs/(sha256:[0-9a-f]{64})`)

// blobGets are the digests of the blobs fetched (GET) in an access log.
func blobGets(log []byte) map[string]bool {
	out := map[string]bool{}
	for _, m := range blobGet.FindAllSubmatch(log, -1) {
		out[string(m[1])] = true
	}
	return out
}

// startLoggingRegistry is buildtest.StartRegistry with the access log
// kept: it returns host:port and the file the registry logs to.
func startLoggingRegistry(t *testing.T) (string, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.yml")
	os.WriteFile(conf, []byte(fmt.Sprintf("version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)), 0o644)
	logPath := filepath.Join(dir, "access.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("docker-registry", "serve", conf)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); logFile.Close() })
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr, logPath
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("docker-registry did not listen on %s", addr)
	return "", ""
}
