package archive_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/release"
	"github.com/temper-dev/temper/internal/debian/release/releasetest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
)

// TestRepositoryKeysNeverCross: a repository is verified with its own key
// only and Debian's suites with Debian's only, on one client: once the
// repository key has verified the repository, a Debian suite signed by it
// is still refused, and a repository signed by Debian's key is refused.
// The repository has no Acquire-By-Hash: its indices come from their
// canonical paths.
func TestRepositoryKeysNeverCross(t *testing.T) {
	debKey := releasetest.NewKeyAt(t, "debian", "ed25519", testarchive.KeyCreation, 0)
	repoKey := releasetest.NewKeyAt(t, "repo", "ed25519", testarchive.KeyCreation, 0)
	pkg := testarchive.Package{Name: "php8.3-cli", Version: "8.3.10-1", Arch: "amd64"}
	files := (&testarchive.Archive{Signers: []*openpgp.Entity{debKey}, Suites: []testarchive.Suite{
		{Name: "bookworm"}, {Name: "bookworm-updates"}, {Name: "bookworm-security", Archive: "debian-security"},
	}}).Files(t)
	// The repository at /php, signed by its own key, without by-hash.
	for p, d := range (&testarchive.Archive{Signers: []*openpgp.Entity{repoKey}, Suites: []testarchive.Suite{
		{Name: "bookworm", Archive: "php", NoByHash: true, Packages: []testarchive.Package{pkg}},
	}}).Files(t) {
		files[p] = d
	}
	// An impostor Debian suite signed by the repository's key.
	for p, d := range (&testarchive.Archive{Signers: []*openpgp.Entity{repoKey}, Suites: []testarchive.Suite{
		{Name: "trixie"}, {Name: "trixie-updates"}, {Name: "trixie-security", Archive: "debian-security"},
	}}).Files(t) {
		files[p] = d
	}
	// The repository signed by Debian's key, at /evil.
	for p, d := range (&testarchive.Archive{Signers: []*openpgp.Entity{debKey}, Suites: []testarchive.Suite{
		{Name: "bookworm", Archive: "evil", Packages: []testarchive.Package{pkg}},
	}}).Files(t) {
		files[p] = d
	}
	srv := testarchive.Serve(t, files)
	c := srv.Client(t, t.TempDir(), debKey)
	ctx := context.Background()

	kf := filepath.Join(t.TempDir(), "repo.asc")
	os.WriteFile(kf, releasetest.ArmoredPublicKeyring(t, repoKey), 0o644)
	fp := archive.Fingerprint(repoKey.PrimaryKey.Fingerprint)
	kr, err := archive.LoadPinnedKey(kf, strings.ToLower(fp))
	if err != nil {
		t.Fatal(err)
	}
	repo := archive.Repository{Name: "php", URL: srv.URL + "/php", Suite: "bookworm", Keyring: kr}
	x, err := c.LoadRepository(ctx, repo, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Packages) != 1 || x.Packages[0].Repository != "php" || x.Packages[0].URL() != srv.URL+"/php/pool/main/p/php8.3-cli/php8.3-cli_8.3.10-1_amd64.deb" {
		t.Fatalf("repository packages: %+v", x.Packages)
	}
	if n := srv.TotalHits("by-hash"); n != 0 {
		t.Errorf("%d by-hash requests to a repository without Acquire-By-Hash", n)
	}
	if _, err := c.LoadRelease(ctx, "bookworm", "amd64"); err != nil {
		t.Fatalf("Debian's suites: %v", err)
	}
	if _, err := c.LoadRelease(ctx, "trixie", "amd64"); err == nil {
		t.Error("a Debian suite signed by the repository's key was accepted")
	}
	evil := repo
	evil.URL = srv.URL + "/evil"
	if _, err := c.LoadRepository(ctx, evil, "amd64"); err == nil || !strings.Contains(err.Error(), "repository php") {
		t.Errorf("a repository signed by Debian's key: want refused, got %v", err)
	}
	// The same URL with Debian's keyring is a different verification, not
	// the cached success.
	withDebian := repo
	withDebian.Keyring = release.NewKeyring(openpgp.EntityList{debKey})
	if _, err := c.LoadRepository(ctx, withDebian, "amd64"); err == nil {
		t.Error("the repository verified with Debian's keyring")
	}
	if _, err := archive.LoadPinnedKey(kf, strings.Repeat("A", 40)); err == nil || !strings.Contains(err.Error(), "does not match the pinned fingerprint") {
		t.Errorf("mismatched pin: %v", err)
	}
	if _, err := c.LoadRepository(ctx, archive.Repository{Name: "php", URL: srv.URL + "/php", Suite: "bookworm"}, "amd64"); err == nil {
		t.Error("a repository without its own key was loaded")
	}
}
