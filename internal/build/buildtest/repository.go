package buildtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/release"
	"github.com/temper-dev/temper/internal/debian/repotest"
)

// RepoFixture is the build fixture's Debian archive and beside it a
// designated repository made by reprepro (Debian's tool, not temper's) and
// signed by a gpg key generated for the test, served on 127.0.0.1 by a
// server that counts the .deb requests it answers.
type RepoFixture struct {
	*Fixture
	RepoKey *repotest.Key
	Repo    *repotest.Repo
	URL     string // the repository's base URL
	debs    atomic.Int64
}

// RepoDeb is an amd64 .deb for the repository, with files (Section and
// Priority set: reprepro refuses a .deb without them).
func RepoDeb(t *testing.T, name, version, deps string, files ...debtest.File) []byte {
	control := "Package: " + name + "\nVersion: " + version + "\nArchitecture: amd64\nMaintainer: T <t@example.org>\nSection: misc\nPriority: optional\n"
	if deps != "" {
		control += "Depends: " + deps + "\n"
	}
	control += "Description: " + name + "\n"
	return debtest.Build(t, debtest.Spec{Control: control, Files: files, AutoDirs: true})
}

// NewRepoFixture serves the Debian fixture and a reprepro repository
// (codename bookworm, Origin TemperRepo) holding debs.
func NewRepoFixture(t *testing.T, debs ...[]byte) *RepoFixture {
	t.Helper()
	repotest.Require(t, "gpg", "gpgconf", "reprepro")
	f := &RepoFixture{Fixture: NewFixture(t)}
	f.RepoKey = repotest.NewKey(t, "Temper test repository <repo@example.org>")
	f.Repo = repotest.NewRepo(t, f.RepoKey, "TemperRepo", "bookworm")
	if len(debs) > 0 {
		f.Repo.Include(t, debs...)
	}
	files := http.FileServer(http.Dir(f.Repo.Dir))
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".deb") {
			f.debs.Add(1)
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	f.URL = s.URL
	return f
}

// DebRequests is how many .deb requests the repository's server answered.
func (f *RepoFixture) DebRequests() int { return int(f.debs.Load()) }

// Client reads the Debian fixture (trusting its key only: the repository
// brings its own) through a cache in cacheDir, on the real clock: gpg
// signed the repository just now.
func (f *RepoFixture) Client(cacheDir string) *archive.Client {
	t := f.t
	c, err := cache.Open(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	h := fetch.New("temper-test")
	h.Backoff = time.Millisecond
	cl, err := archive.New(archive.Config{Mirrors: f.Mirrors, Cache: c, HTTP: h,
		Keyring: release.NewKeyring(openpgp.EntityList{f.Key})})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// RepositoryBlock is the definition's repositories: entry for the
// fixture's repository (key at keys/repo.asc), followed by extra lines
// (pins, default_priority) indented as its fields.
func (f *RepoFixture) RepositoryBlock(extra string) string {
	return fmt.Sprintf("repositories:\n  - name: repo\n    url: %s\n    suites: [bookworm]\n    components: [main]\n    key: keys/repo.asc\n    fingerprint: \"%s\"\n%s",
		f.URL, f.RepoKey.Fingerprint, extra)
}

// WriteKey copies the repository's armored public key to dir/keys/repo.asc.
func (f *RepoFixture) WriteKey(t *testing.T, dir string) {
	t.Helper()
	key, err := os.ReadFile(f.RepoKey.Armored)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys", "repo.asc"), key, 0o644); err != nil {
		t.Fatal(err)
	}
}
