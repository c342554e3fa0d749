package resolve

import (
	"testing"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/index"
	"github.com/temper-dev/temper/internal/debian/release"
)

// TestPriorities checks apt_preferences(5) semantics case by case: the
// first matching specific pin decides a version; else the first general pin
// matching its file, else 500 (1 NotAutomatic, 100 with
// ButAutomaticUpgrades); the candidate is the highest priority, the
// highest version among equals, none below 1.
func TestPriorities(t *testing.T) {
	deb := &archive.Suite{Release: &release.File{Origin: "Debian", Codename: "bookworm", Suite: "oldstable"}}
	repo := &archive.Suite{Release: &release.File{Origin: "PHP", Codename: "bookworm"}}
	bpo := &archive.Suite{Release: &release.File{Origin: "Debian", Codename: "bookworm-backports", NotAutomatic: true, ButAutomaticUpgrades: true}}
	v := func(name, ver string, from *archive.Suite, repoName string) *archive.Package {
		return &archive.Package{Package: &index.Package{Name: name, Version: ver, Architecture: "amd64"}, Base: "http://h.example/x", Component: "main", Repository: repoName, From: from}
	}
	// Versions highest first, as archive.Release keeps them.
	php := []*archive.Package{v("php8.3", "8.3.10", repo, "php"), v("php8.3", "8.3.6", deb, "")}
	ssl := []*archive.Package{v("libssl3", "3.3.1", repo, "php"), v("libssl3", "3.0.15", deb, "")}
	back := []*archive.Package{v("curl", "8.5", bpo, ""), v("curl", "7.88", deb, "")}
	for _, c := range []struct {
		name string
		pins []Pin
		vs   []*archive.Package
		want string // candidate version, "" for none
	}{
		{"default: highest version", nil, ssl, "3.3.1"},
		{"general pin lowers the repository", []Pin{{Repository: "php", Priority: 100}}, ssl, "3.0.15"},
		{"specific pin beats the general", []Pin{{Packages: []string{"php8.*"}, Repository: "php", Priority: 990}, {Repository: "php", Priority: 100}}, php, "8.3.10"},
		{"first specific pin wins", []Pin{{Packages: []string{"libssl3"}, Repository: "php", Priority: -1}, {Packages: []string{"libssl3"}, Repository: "php", Priority: 990}}, ssl, "3.0.15"},
		{"first general pin wins", []Pin{{Release: "o=PHP", Priority: 50}, {Repository: "php", Priority: 900}}, ssl, "3.0.15"},
		{"release n= and glob", []Pin{{Packages: []string{"/^lib/"}, Release: "o=Debian,n=book*", Priority: 600}}, ssl, "3.0.15"},
		{"origin host", []Pin{{Packages: []string{"libssl3"}, Origin: "other.example", Priority: 600}}, ssl, "3.3.1"},
		{"every version negative: no candidate", []Pin{{Priority: -10}}, ssl, ""},
		{"higher priority may pick the lower version", []Pin{{Packages: []string{"php8.3"}, Repository: DebianRepository, Priority: 990}}, php, "8.3.6"},
		{"NotAutomatic+ButAutomaticUpgrades is 100", nil, back, "7.88"},
		{"pinned up, backports win", []Pin{{Release: "n=bookworm-backports", Priority: 500}}, back, "8.5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ms, err := compilePins(&Policy{Pins: c.pins})
			if err != nil {
				t.Fatal(err)
			}
			cand, _ := priorities(ms, c.vs)
			got := ""
			if cand != nil {
				got = cand.Version
			}
			if got != c.want {
				t.Errorf("candidate %q, want %q", got, c.want)
			}
		})
	}
	for _, bad := range []Pin{{Priority: 0}, {Priority: 40000}, {Release: "origin=x", Priority: 1}, {Packages: []string{"/(/"}, Priority: 1}} {
		if _, err := compilePins(&Policy{Pins: []Pin{bad}}); err == nil {
			t.Errorf("pin %+v accepted", bad)
		}
	}
}
