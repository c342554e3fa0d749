// Package buildtest is test support for the packages that build images
// (internal/build, internal/evidence): a tiny signed bookworm whose
// packages are real .debs, definition files, the real-archive fetcher and
// a local registry for the live tests. It is imported only by tests.
package buildtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/livetest"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/debian/release/releasetest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
)

// Fixture is a tiny signed bookworm whose packages are real .debs: libc6,
// tool (with a shell and docs to prune) and other (setuid).
type Fixture struct {
	Key     *openpgp.Entity
	Server  *testarchive.Server
	Mirrors archive.Mirrors
	// Extra packages go to bookworm-security; after changing them, serve
	// Archive's files again.
	Extra []testarchive.Package
	t     *testing.T
}

// DebPkg is an amd64 package of a real .deb holding files.
func DebPkg(t *testing.T, name, version, deps string, files ...debtest.File) testarchive.Package {
	control := "Package: " + name + "\nVersion: " + version + "\nArchitecture: amd64\nMaintainer: T <t@example.org>\nDescription: " + name + "\n"
	fields := map[string]string{}
	if deps != "" {
		control += "Depends: " + deps + "\n"
		fields["Depends"] = deps
	}
	data := debtest.Build(t, debtest.Spec{Control: control, Files: files, AutoDirs: true})
	return testarchive.Package{Name: name, Version: version, Arch: "amd64", Fields: fields, Deb: data}
}

// Archive is the fixture's archive as it is now.
func (f *Fixture) Archive() *testarchive.Archive {
	t := f.t
	main := []testarchive.Package{
		DebPkg(t, "libc6", "2.36-9", "", debtest.File{Path: "./lib/x86_64-linux-gnu/libc.so.6", Mode: 0o755, Data: []byte("libc")}),
		DebPkg(t, "tool", "1.0", "libc6", debtest.File{Path: "./usr/bin/tool", Mode: 0o755, Data: []byte("tool v1")},
			debtest.File{Path: "./bin/sh", Mode: 0o755, Data: []byte("a shell")},
			debtest.File{Path: "./usr/share/doc/tool/changelog.gz", Data: []byte("docs")}),
		DebPkg(t, "other", "2.0", "libc6", debtest.File{Path: "./usr/bin/other", Mode: 0o4755, Data: []byte("other")}),
	}
	return &testarchive.Archive{Signers: []*openpgp.Entity{f.Key}, Suites: []testarchive.Suite{
		{Name: "bookworm", Architectures: []string{"amd64"}, Packages: main},
		{Name: "bookworm-updates", Architectures: []string{"amd64"}},
		{Name: "bookworm-security", Archive: "debian-security", Architectures: []string{"amd64"}, Packages: f.Extra},
	}}
}

// NewFixture serves the fixture archive for the test's duration.
func NewFixture(t *testing.T) *Fixture {
	f := &Fixture{t: t, Key: releasetest.NewKeyAt(t, "build fixture", "ed25519", testarchive.KeyCreation, 0)}
	f.Server = testarchive.Serve(t, f.Archive().Files(t))
	f.Mirrors = f.Server.Mirrors()
	return f
}

// Client reads the fixture archive through a cache in cacheDir.
func (f *Fixture) Client(cacheDir string) *archive.Client {
	return f.Server.Client(f.t, cacheDir, f.Key)
}

// Fetcher downloads the fixture's .debs into a cache in cacheDir.
func (f *Fixture) Fetcher(cacheDir string) *pool.Fetcher {
	c, _ := cache.Open(cacheDir)
	h := fetch.New("test")
	h.Backoff = time.Millisecond
	return &pool.Fetcher{Mirrors: f.Mirrors, Cache: c, HTTP: h}
}

// WriteDef writes a definition file and returns its path.
func WriteDef(t *testing.T, dir, name, body string) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Need skips the test when a tool is missing, or fails it under CI=true,
// where .ci/run installs every tool.
func Need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed; .ci/run installs it", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

// LiveFetcher downloads from the machine's mirrors (livetest) into a cache
// in cacheDir.
func LiveFetcher(t testing.TB, cacheDir string) *pool.Fetcher {
	c, err := cache.Open(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	return &pool.Fetcher{Mirrors: livetest.Mirrors(t), Cache: c, HTTP: fetch.New("temper-test")}
}

// StartRegistry runs Debian's docker-registry (distribution) on a free
// loopback port and returns host:port.
func StartRegistry(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.yml")
	os.WriteFile(conf, []byte(fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)), 0o644)
	cmd := exec.Command("docker-registry", "serve", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("docker-registry did not listen on %s", addr)
	return ""
}
