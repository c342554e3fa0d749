package update_test

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/temper-dev/temper/internal/debian/release/releasetest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
	"github.com/temper-dev/temper/internal/update"
)

// TestRepositoryEndOfSupport: a designated repository's own end of
// support (end_of_support: in the definition) freezes the stream the way
// the Debian release's end does, and the earlier date wins. The Debian
// fixture's distro-info-data says bookworm's regular support ends
// 2026-06-10 and LTS 2028-06-30; a repository of the team (a second
// signed archive on 127.0.0.1, its key pinned) ends 2027-06-30 for
// team.yaml and 2030-01-01 for late.yaml; app.yaml has no repository.
// The clock is the check's (Options.Now).
func TestRepositoryEndOfSupport(t *testing.T) {
	csv := "version,codename,series,created,release,eol,eol-lts,eol-elts\n" +
		"12,Bookworm,bookworm,2021-08-14,2023-06-10,2026-06-10,2028-06-30,2033-06-30\n"
	e := newEnv(t, suitesWithDistroInfo(t, csv))

	// The team's repository: its own archive, its own key.
	repoKey := releasetest.NewKeyAt(t, "team repository", "ed25519", testarchive.KeyCreation, 0)
	repo := testarchive.Serve(t, (&testarchive.Archive{Signers: []*openpgp.Entity{repoKey}, Suites: []testarchive.Suite{
		{Name: "bookworm", Architectures: []string{"amd64"}, Packages: []testarchive.Package{plain("teamtool", "1.0-1", "Depends", "libfoo1")}},
	}}).Files(t))
	if err := os.MkdirAll(filepath.Join(e.dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.write("keys/team.asc", string(releasetest.ArmoredPublicKeyring(t, repoKey)))
	fp := strings.ToUpper(hex.EncodeToString(repoKey.PrimaryKey.Fingerprint))
	teamDef := func(end string) string {
		return "name: team\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [app, teamtool]\nrepositories:\n" +
			"  - name: team\n    url: " + repo.ArchiveURL() + "\n    suites: [bookworm]\n    key: keys/team.asc\n    fingerprint: \"" + fp + "\"\n" +
			"    end_of_support: " + end + "\n"
	}
	e.write("app.yaml", appDef)
	e.write("team.yaml", teamDef("2027-06-30"))
	e.write("late.yaml", strings.Replace(teamDef("2030-01-01"), "name: team\nversion", "name: late\nversion", 1))
	e.lock()

	at := func(day string) *update.Report {
		t.Helper()
		now, err := time.Parse(time.DateOnly, day)
		if err != nil {
			t.Fatal(err)
		}
		e.now = now
		rep := e.check()
		for _, img := range rep.Images {
			if img.Error != "" {
				t.Fatalf("%s: %s", img.Definition, img.Error)
			}
		}
		return rep
	}
	reasons := func(img *update.Image) string { return strings.Join(img.Reasons, "\n") }

	// Before every date: all supported, the dates reported.
	rep := at("2026-05-01")
	for _, name := range []string{"app.yaml", "team.yaml", "late.yaml"} {
		if img := image(t, rep, name); img.Verdict != update.UpToDate || len(img.Reasons) != 0 {
			t.Errorf("%s before every end: verdict %s reasons %v", name, img.Verdict, img.Reasons)
		}
	}
	if r := image(t, rep, "team.yaml").EOL.Repositories; len(r) != 1 || r[0].Name != "team" || r[0].EndOfSupport != "2027-06-30" || r[0].Past || r[0].URL != repo.ArchiveURL() {
		t.Errorf("team.yaml eol.repositories %+v", r)
	}

	// The last day is still supported.
	if img := image(t, at("2027-06-30"), "team.yaml"); img.Verdict != update.UpToDate || img.EOL.Repositories[0].Past {
		t.Errorf("on the last day: verdict %s %+v", img.Verdict, img.EOL.Repositories)
	}

	// Past the repository's end (2027-06-30), before Debian's LTS end
	// (2028-06-30): the repository's earlier date wins for team.yaml,
	// frozen and said loudly; app.yaml and late.yaml only hear of
	// Debian's regular EOL.
	rep = at("2027-07-01")
	team := image(t, rep, "team.yaml")
	if team.Verdict != update.Blocked || !team.EOL.Repositories[0].Past || !team.EOL.Frozen() {
		t.Fatalf("team.yaml past its repository's end: verdict %s eol %+v", team.Verdict, team.EOL)
	}
	for _, want := range []string{
		"END OF SUPPORT: repository team (" + repo.ArchiveURL() + ") reached its end of support on 2027-06-30",
		"before Debian bookworm's own end on 2028-06-30", "frozen",
		"END OF LIFE: Debian bookworm reached the end of regular security support on 2026-06-10",
	} {
		if !strings.Contains(reasons(team), want) {
			t.Errorf("team.yaml reasons lack %q:\n%s", want, reasons(team))
		}
	}
	for _, name := range []string{"app.yaml", "late.yaml"} {
		img := image(t, rep, name)
		if img.Verdict != update.UpToDate || strings.Contains(reasons(img), "END OF SUPPORT") || !strings.Contains(reasons(img), "END OF LIFE") {
			t.Errorf("%s at 2027-07-01: verdict %s reasons %v", name, img.Verdict, img.Reasons)
		}
	}
	// Through JSON, as automation sees it.
	data, err := json.Marshal(team)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"repositories":[{"name":"team","url":"`+repo.ArchiveURL()+`","end_of_support":"2027-06-30","past":true}]`) {
		t.Errorf("JSON: %s", data)
	}
	if rep.ExitStatus() != update.ExitUpdates {
		t.Errorf("exit status %d, want %d (blocked)", rep.ExitStatus(), update.ExitUpdates)
	}

	// Past Debian's LTS end (2028-06-30), before late.yaml's repository
	// end (2030-01-01): Debian's earlier date wins; every stream is frozen.
	rep = at("2028-07-01")
	late := image(t, rep, "late.yaml")
	if late.Verdict != update.Blocked || late.EOL.Repositories[0].Past || !strings.Contains(reasons(late), "LTS ended on 2028-06-30") || strings.Contains(reasons(late), "END OF SUPPORT") {
		t.Errorf("late.yaml past Debian's LTS: verdict %s reasons %v", late.Verdict, late.Reasons)
	}
	if img := image(t, rep, "app.yaml"); img.Verdict != update.Blocked {
		t.Errorf("app.yaml past Debian's LTS: verdict %s", img.Verdict)
	}
}
