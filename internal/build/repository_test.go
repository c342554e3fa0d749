package build_test

import (
	"archive/tar"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/spec"
)

// TestBuildFromRepositoryLock builds an image whose lock pins a package
// from a designated repository made by reprepro: its .deb is fetched from
// the repository's own server (one request, then the cache), Debian's
// from Debian's, and the image holds both.
func TestBuildFromRepositoryLock(t *testing.T) {
	f := buildtest.NewRepoFixture(t,
		buildtest.RepoDeb(t, "phpx", "8.3.10-1+repo1", "libc6", debtest.File{Path: "./usr/bin/phpx", Mode: 0o755, Data: []byte("phpx from the repository")}),
		// Newer than Debian's tool, but not pinned: Debian's stays.
		buildtest.RepoDeb(t, "tool", "9.0", "libc6", debtest.File{Path: "./usr/bin/tool", Mode: 0o755, Data: []byte("tool from the repository")}),
	)
	dir := t.TempDir()
	f.WriteKey(t, dir)
	def := buildtest.WriteDef(t, dir, "phpx.yaml", "name: phpx\nversion: \"8.3\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [phpx, tool]\n"+
		f.RepositoryBlock("    pins:\n      - packages: [\"phpx*\"]\n        priority: 990\n    default_priority: 100\n"))
	cacheDir := t.TempDir()
	ctx := context.Background()
	if outs, err := lock.Run(ctx, []string{dir}, lock.Options{Client: f.Client(cacheDir)}); err != nil || outs[0].Err != nil {
		t.Fatalf("lock: %v %+v", err, outs)
	}
	l, err := spec.LoadLock(spec.LockPath(def))
	if err != nil {
		t.Fatal(err)
	}
	from := map[string]string{}
	for _, p := range l.Architectures["amd64"].Packages {
		from[p.Name] = p.Repository + " " + p.Version
	}
	if from["phpx"] != "repo 8.3.10-1+repo1" || from["tool"] != " 1.0" || from["libc6"] != " 2.36-9" {
		t.Fatalf("lock: %v", from)
	}
	if f.DebRequests() != 0 {
		t.Fatalf("locking fetched %d .debs from the repository", f.DebRequests())
	}

	out := filepath.Join(dir, "out")
	res, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(cacheDir), Output: out})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.DebRequests(); n != 1 {
		t.Errorf("%d .deb requests to the repository, want 1 (phpx)", n)
	}
	if res.Fetch.Downloaded != 3 {
		t.Errorf("downloaded %d .debs, want 3 (phpx from the repository, tool and libc6 from Debian)", res.Fetch.Downloaded)
	}
	files := imageFiles(t, out, "phpx:8.3")
	if files["usr/bin/phpx"] != "phpx from the repository" || files["usr/bin/tool"] != "tool v1" {
		t.Errorf("image: phpx %q, tool %q", files["usr/bin/phpx"], files["usr/bin/tool"])
	}
	if _, ok := files["var/lib/dpkg/status.d/phpx"]; !ok {
		t.Errorf("image lacks phpx's status.d entry")
	}

	// Built again from the same lock (forced, same cache): the same
	// digest, and nothing asked of the repository.
	again, err := build.Build(ctx, def, build.Options{Fetcher: f.Fetcher(cacheDir), Output: filepath.Join(dir, "again")})
	if err != nil {
		t.Fatal(err)
	}
	if again.IndexDigest != res.IndexDigest || f.DebRequests() != 1 {
		t.Errorf("rebuild: digest %s vs %s, %d .deb requests", again.IndexDigest, res.IndexDigest, f.DebRequests())
	}
}

// imageFiles returns the regular files of the amd64 image (layers applied)
// with their contents.
func imageFiles(t *testing.T, layout, ref string) map[string]string {
	t.Helper()
	idx, err := oci.ReadLayoutRef(layout, ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := oci.ImageFor(idx, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		data, _ := io.ReadAll(tr)
		files[strings.TrimSuffix(h.Name, "/")] = string(data)
	}
	return files
}
