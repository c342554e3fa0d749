package update_test

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/temper-dev/temper/internal/debian/release/releasetest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
	"github.com/temper-dev/temper/internal/update"
)

// TestCheckRefusesRepositoryKeyChange: a designated repository whose
// InRelease is signed by another key than the one the definition pins
// (the repository re-signed by someone else, or a server in between) is
// refused by temper check with an error naming the repository; nothing is
// planned and update writes nothing. Debian's key, trusted for Debian's
// suites, does not make it acceptable either.
func TestCheckRefusesRepositoryKeyChange(t *testing.T) {
	e := newEnv(t, suites(t))
	repoKey := releasetest.NewKeyAt(t, "team repository", "ed25519", testarchive.KeyCreation, 0)
	suitesSigned := func(k *openpgp.Entity, ver string) map[string][]byte {
		return (&testarchive.Archive{Signers: []*openpgp.Entity{k}, Suites: []testarchive.Suite{
			{Name: "bookworm", Architectures: []string{"amd64"}, Packages: []testarchive.Package{plain("teamtool", ver, "Depends", "libfoo1")}},
		}}).Files(t)
	}
	repo := testarchive.Serve(t, suitesSigned(repoKey, "1.0-1"))
	if err := os.MkdirAll(filepath.Join(e.dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.write("keys/team.asc", string(releasetest.ArmoredPublicKeyring(t, repoKey)))
	fp := strings.ToUpper(hex.EncodeToString(repoKey.PrimaryKey.Fingerprint))
	e.write("team.yaml", "name: team\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [teamtool]\nrepositories:\n"+
		"  - name: team\n    url: "+repo.ArchiveURL()+"\n    suites: [bookworm]\n    key: keys/team.asc\n    fingerprint: \""+fp+"\"\n")
	e.lock()
	if img := image(t, e.check(), "team.yaml"); img.Verdict != update.UpToDate || img.Error != "" {
		t.Fatalf("before: verdict %s error %q", img.Verdict, img.Error)
	}
	lockBefore, err := os.ReadFile(filepath.Join(e.dir, "team.lock.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	other := releasetest.NewKeyAt(t, "someone else", "ed25519", testarchive.KeyCreation, 0)
	for name, signer := range map[string]*openpgp.Entity{"another key": other, "Debian's key": e.key} {
		t.Run(name, func(t *testing.T) {
			for p, data := range suitesSigned(signer, "2.0-1") {
				repo.SetFile(p, data)
			}
			rep := e.check()
			img := image(t, rep, "team.yaml")
			if img.Verdict != update.Failed || rep.ExitStatus() != update.ExitError {
				t.Fatalf("verdict %s exit %d changes %+v", img.Verdict, rep.ExitStatus(), img.Changes)
			}
			for _, want := range []string{"team.yaml", "repository team", "InRelease"} {
				if !strings.Contains(img.Error, want) {
					t.Errorf("error lacks %q: %s", want, img.Error)
				}
			}
			if _, err := update.Apply(rep, update.ApplyOptions{AllowABIChange: true}); err != nil {
				t.Fatal(err)
			}
			if after, _ := os.ReadFile(filepath.Join(e.dir, "team.lock.yaml")); string(after) != string(lockBefore) {
				t.Errorf("the lock changed")
			}
			t.Logf("%s", img.Error)
		})
	}
}
