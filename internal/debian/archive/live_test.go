package archive_test

import (
	"context"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/livetest"
	"github.com/temper-dev/temper/internal/debian/version"
)

func liveMirrors(t testing.TB) archive.Mirrors { return livetest.Mirrors(t) }

func liveClient(t testing.TB, dir string, offline bool) *archive.Client {
	return livetest.Client(t, dir, offline)
}

// TestLiveReleases verifies bookworm's and trixie's InRelease files with the
// embedded keys, loads main amd64 for both, and checks that python3 has a
// candidate. It asserts properties, never versions: the archive moves.
func TestLiveReleases(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"bookworm", "trixie"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			rel, err := liveClient(t, dir, false).LoadRelease(ctx, name, "amd64")
			if err != nil {
				t.Fatal(err)
			}
			if len(rel.Suites) != 3 {
				t.Fatalf("%d suites", len(rel.Suites))
			}
			for _, s := range rel.Suites {
				if len(s.Signatures) == 0 {
					t.Errorf("%s: no good signature recorded", s.Ref.Name)
				}
				if s.Release.Date.IsZero() || s.Release.Date.After(time.Now().Add(24*time.Hour)) {
					t.Errorf("%s: implausible Date %v", s.Ref.Name, s.Release.Date)
				}
				t.Logf("%s: %s signed by %s", s.Ref.Name, s.Release.Date, s.Signatures[0].Fingerprint)
			}
			if rel.Len() < 30000 {
				t.Errorf("%s main amd64 has only %d packages", name, rel.Len())
			}
			py := rel.Candidate("python3")
			if py == nil {
				t.Fatal("no python3 candidate")
			}
			if py.Source != "python3-defaults" || py.SHA256 == "" || py.Size == 0 || py.Depends == "" {
				t.Errorf("python3 candidate incomplete: %+v", py.Package)
			}
			if _, err := version.Parse(py.Version); err != nil {
				t.Errorf("python3 version: %v", err)
			}
			// The candidate is the highest version across the suites.
			for _, v := range rel.Versions("libc6") {
				if version.CompareStrings(v.Version, rel.Candidate("libc6").Version) > 0 {
					t.Errorf("libc6 %s (%s) is higher than the candidate", v.Version, v.Suite)
				}
			}
			// A second load from the same cache works offline.
			if _, err := liveClient(t, dir, true).LoadRelease(ctx, name, "amd64"); err != nil {
				t.Fatalf("offline reload: %v", err)
			}
		})
	}
}
