package repotest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/release"
	"github.com/temper-dev/temper/internal/debian/release/releasetest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
)

// Origin is the Origin and Label of the fixture's PHP repository; its flat
// copy has Origin+"-flat".
const Origin = "TemperPHP"

// Fixture is a Debian bookworm fixture archive (signed by a go-crypto key,
// served by testarchive) and beside it a PHP repository built by reprepro
// and signed by a gpg key, the way a team would use a third-party
// repository: PHP 8.3 from the repository, everything else Debian's unless
// pinned otherwise.
type Fixture struct {
	Debian        *testarchive.Server
	DebianKey     *openpgp.Entity
	DebianKeyring string // binary public key file, for apt's signed-by
	Key           *Key   // the repository's gpg key
	Repo          *Repo
	URL           string // the repository's base URL
	FlatDir       string // the flat copy's directory below URL ("flat/")
	cache         string
}

// Deb builds a real .deb (debtest) with one file, for reprepro.
func Deb(t testing.TB, name, ver, arch string, fields ...string) []byte {
	t.Helper()
	ctl := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: Test <test@example.org>\nSection: misc\nPriority: optional\n", name, ver, arch)
	for i := 0; i+1 < len(fields); i += 2 {
		ctl += fields[i] + ": " + fields[i+1] + "\n"
	}
	ctl += "Description: repotest package " + name + "\n"
	return debtest.Build(t, debtest.Spec{Control: ctl, AutoDirs: true, Files: []debtest.File{
		{Path: "./usr/share/doc/" + name + "/version", Data: []byte(ver + "\n")},
	}})
}

// NewFixture builds both archives and serves them.
func NewFixture(t testing.TB) *Fixture {
	t.Helper()
	Require(t, "gpg", "gpgconf", "reprepro")
	f := &Fixture{cache: t.TempDir(), FlatDir: "flat/"}
	f.DebianKey = releasetest.NewKeyAt(t, "Debian fixture", "ed25519", testarchive.KeyCreation, 0)
	pk := func(name, ver, arch string, kv ...string) testarchive.Package {
		fl := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			fl[kv[i]] = kv[i+1]
		}
		return testarchive.Package{Name: name, Version: ver, Arch: arch, Fields: fl}
	}
	a := &testarchive.Archive{Signers: []*openpgp.Entity{f.DebianKey}, Suites: []testarchive.Suite{
		{Name: "bookworm", Architectures: []string{"amd64"}, Packages: []testarchive.Package{
			pk("libc6", "2.36-9+deb12u7", "amd64", "Source", "glibc"),
			pk("libssl3", "3.0.11-1~deb12u2", "amd64", "Depends", "libc6 (>= 2.34)", "Source", "openssl"),
			pk("zlib1g", "1:1.2.13.dfsg-1", "amd64", "Depends", "libc6 (>= 2.14)", "Source", "zlib"),
			pk("php-common", "2:93", "all", "Source", "php-defaults"),
		}},
		{Name: "bookworm-updates", Architectures: []string{"amd64"}},
		{Name: "bookworm-security", Archive: "debian-security", Architectures: []string{"amd64"}, Packages: []testarchive.Package{
			pk("libssl3", "3.0.15-1~deb12u1", "amd64", "Depends", "libc6 (>= 2.34)", "Source", "openssl"),
		}},
	}}
	f.Debian = testarchive.Serve(t, a.Files(t))
	f.DebianKeyring = filepath.Join(t.TempDir(), "debian-fixture.gpg")
	if err := os.WriteFile(f.DebianKeyring, releasetest.PublicKeyring(t, f.DebianKey), 0o644); err != nil {
		t.Fatal(err)
	}

	f.Key = NewKey(t, "Temper PHP repository <php@example.org>")
	f.Repo = NewRepo(t, f.Key, Origin, "bookworm")
	f.Repo.Include(t,
		Deb(t, "php8.3-cli", "8.3.10-1+repo1", "amd64", "Source", "php8.3",
			"Depends", "libc6 (>= 2.36), libssl3 (>= 3.0.0), php8.3-common (= 8.3.10-1+repo1), libzip4 (>= 1.7.0), zlib1g (>= 1:1.1.4)"),
		Deb(t, "php8.3-common", "8.3.10-1+repo1", "all", "Source", "php8.3", "Depends", "php-common"),
		Deb(t, "php8.2-cli", "8.2.22-1+repo1", "amd64", "Source", "php8.2", "Depends", "libc6 (>= 2.36)"),
		Deb(t, "libzip4", "1.11.1-1+repo1", "amd64", "Source", "libzip", "Depends", "libc6 (>= 2.34), zlib1g (>= 1:1.1.2)"),
		Deb(t, "libssl3", "3.3.1-1+repo1", "amd64", "Source", "openssl", "Depends", "libc6 (>= 2.34)"),
		Deb(t, "php-common", "2:95+repo1", "all", "Source", "php-defaults"),
	)
	f.Repo.WriteFlat(t, "flat", "amd64")
	f.URL = f.Repo.Serve(t)
	return f
}

// Client is an archive client for the Debian fixture that trusts only the
// Debian fixture key (repositories bring their own) and sees the real
// clock: the repository was signed just now by gpg.
func (f *Fixture) Client(t testing.TB) *archive.Client {
	t.Helper()
	c, err := cache.Open(f.cache)
	if err != nil {
		t.Fatal(err)
	}
	h := fetch.New("temper-test")
	h.Backoff = time.Millisecond
	cl, err := archive.New(archive.Config{
		Mirrors: f.Debian.Mirrors(), Cache: c, HTTP: h,
		Keyring: release.NewKeyring(openpgp.EntityList{f.DebianKey}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// Definition writes a definition for roots with the repository block
// given (its {{URL}}, {{FP}} and {{FLAT}} replaced) into dir, with the
// repository's key at dir/keys/php.asc, and returns its path.
func (f *Fixture) Definition(t testing.TB, dir string, roots []string, repoBlock string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(f.Key.Armored)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys", "php.asc"), key, 0o644); err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer("{{URL}}", f.URL, "{{FP}}", f.Key.Fingerprint, "{{FLAT}}", f.FlatDir)
	def := fmt.Sprintf("name: php\nversion: \"8.3\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [%s]\n%s",
		strings.Join(roots, ", "), r.Replace(repoBlock))
	p := filepath.Join(dir, "php.yaml")
	if err := os.WriteFile(p, []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
