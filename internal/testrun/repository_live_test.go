package testrun_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/livetest"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/debian/repotest"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/resolve"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/testrun"
)

// TestLiveRepositoryImage is the podman proof for designated repositories
// (CI=true or TEMPER_LIVE=1): Debian's real hello .deb, taken from this
// machine's mirror, is rebuilt by dpkg-deb as another package
// (temper-hello, a +team1 version, one more file naming its repository)
// and published by reprepro into a repository signed by a gpg key made
// here and served on 127.0.0.1. A definition takes temper-hello from that
// repository (pinned) and everything else (libc6, ...) from Debian; it is
// locked, built, and its tests run in podman: the repository's binary
// runs and prints its greeting, the repository's own file is there, and
// dpkg's status names the renamed package.
func TestLiveRepositoryImage(t *testing.T) {
	mirrors := livetest.Mirrors(t)
	requirePodman(t)
	repotest.Require(t, "gpg", "gpgconf", "reprepro", "dpkg-deb")
	_, file, _, _ := runtime.Caller(0)
	conf := filepath.Join(filepath.Dir(file), "..", "..", "ci", "containers.conf")
	ctx := liveContext(t)
	cacheDir := liveCacheDir(t)
	c, err := cache.Open(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	arch := testrun.HostArch()
	client := livetest.Client(t, cacheDir, false)
	fetcher := &pool.Fetcher{Mirrors: mirrors, Cache: c, HTTP: fetch.New("temper-test")}

	// Debian's real hello, rebuilt as the team's temper-hello.
	u, err := resolve.LoadOnce(client).Universe(ctx, "bookworm", nil, arch)
	if err != nil {
		t.Fatal(err)
	}
	hello := u.Release().Candidate("hello")
	if hello == nil {
		t.Fatal("bookworm has no hello package")
	}
	debs, _, err := fetcher.Fetch(ctx, []pool.Item{{Name: hello.Name, Version: hello.Version, Suite: hello.Suite, Filename: hello.Filename, SHA256: strings.ToLower(hello.SHA256), Size: hello.Size}})
	if err != nil {
		t.Fatal(err)
	}
	const teamVersion = "2.10-3+team1"
	rebuilt := repotest.Rebuild(t, debs[0], "temper-hello", teamVersion, map[string]string{
		"usr/share/temper-hello/repository": "team repository on 127.0.0.1\n",
	})
	key := repotest.NewKey(t, "Temper team repository <team@example.org>")
	repo := repotest.NewRepo(t, key, "TemperTeam", "bookworm")
	repo.Include(t, rebuilt)
	url := repo.Serve(t)

	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	keyData, err := os.ReadFile(key.Armored)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys", "team.asc"), keyData, 0o644); err != nil {
		t.Fatal(err)
	}
	def := filepath.Join(dir, "hello.yaml")
	if err := os.WriteFile(def, []byte(`name: hello
version: "2.10"
debian:
  release: bookworm
architectures: [`+arch+`]
packages: [temper-hello]
repositories:
  - name: team
    url: `+url+`
    suites: [bookworm]
    components: [main]
    key: keys/team.asc
    fingerprint: "`+key.Fingerprint+`"
    pins:
      - packages: ["temper-*"]
        priority: 990
    default_priority: 100
image:
  entrypoint: [/usr/bin/hello]
tests:
  - name: the repository's binary runs
    command:
      args: [--version]
      stdout: {regex: '^hello \(GNU Hello\)'}
  - name: the repository's binary takes arguments
    command:
      args: ["--greeting=from the team repository"]
      stdout: {contains: "from the team repository"}
  - name: the repository's own file
    path: {path: /usr/share/temper-hello/repository, mode: "0644", owner: "0:0"}
  - name: dpkg knows the renamed package
    path: {path: /var/lib/dpkg/status.d/temper-hello}
  - name: not Debian's hello
    path: {path: /var/lib/dpkg/status.d/hello, exists: false}
  - name: runs as 65532:65532
    config: {user: "65532:65532"}
`), 0o644); err != nil {
		t.Fatal(err)
	}

	outs, err := lock.Run(ctx, []string{def}, lock.Options{Client: client})
	if err != nil || outs[0].Err != nil {
		t.Fatalf("lock: %v %v", err, outs[0].Err)
	}
	l, err := spec.LoadLock(spec.LockPath(def))
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, p := range l.Architectures[arch].Packages {
		switch {
		case p.Name == "temper-hello":
			found = p.Repository == "team" && p.Version == teamVersion
			if !found {
				t.Errorf("lock: temper-hello %s from %q, want %s from team", p.Version, p.Repository, teamVersion)
			}
		case p.Repository != "":
			t.Errorf("lock: %s from %s, want Debian's", p.Name, p.Repository)
		}
	}
	if !found || len(l.Repositories) != 1 || l.Repositories[0].URL != url {
		t.Fatalf("lock: temper-hello from the team repository not recorded (repositories %+v)", l.Repositories)
	}

	layout := filepath.Join(dir, "layout")
	res, err := build.Build(ctx, def, build.Options{Fetcher: fetcher, Output: layout})
	if err != nil {
		t.Fatal(err)
	}
	eng := &testrun.CLI{Program: "podman", Bin: "podman", Env: []string{"CONTAINERS_CONF=" + conf}}
	rep := testrun.RunFile(ctx, def, testrun.Source{Layout: layout, Arch: arch}, testrun.Options{Engine: eng})
	if rep.Err != "" {
		t.Fatal(rep.Err)
	}
	own := 0
	for _, o := range rep.Tests {
		if o.Kind != "hardening" {
			own++
		}
		t.Logf("%s (%s): %s %s (expected %q, actual %q)", o.Name, o.Kind, o.Status, o.Message, o.Expected, o.Actual)
		if o.Status != testrun.Pass {
			t.Errorf("%s: %s: %s", o.Name, o.Status, o.Message)
		}
	}
	if own != 6 {
		t.Errorf("%d of the definition's tests ran, want 6", own)
	}
	t.Logf("%s built from a lock with temper-hello %s from %s; %d tests ran in podman", res.Ref, teamVersion, url, len(rep.Tests))
}
