package vuln_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/livetest"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/vuln"
	"github.com/temper-dev/temper/internal/vuln/vulntest"
)

// TestLiveScanCatalogBase (CI=true or TEMPER_LIVE=1): examples/catalog/base
// locked afresh against the live archive, scanned against a tracker file
// whose entries name the source versions the lock just pinned: one fixed
// after it (fixable), one at it (fixed, an OpenVEX verdict).
func TestLiveScanCatalogBase(t *testing.T) {
	livetest.Mirrors(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	for _, rel := range []string{"12-bookworm", "13-trixie"} {
		data, err := os.ReadFile(filepath.Join("../../examples/catalog/base", rel+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		def := filepath.Join(dir, rel+".yaml")
		os.WriteFile(def, data, 0o644)
		outs, err := lock.Run(ctx, []string{def}, lock.Options{Client: livetest.Client(t, t.TempDir(), false)})
		if err != nil || outs[0].Err != nil {
			t.Fatalf("lock %s: %v %+v", rel, err, outs)
		}
		l, err := spec.LoadLock(spec.LockPath(def))
		if err != nil {
			t.Fatal(err)
		}
		tracker, srcs := vulntest.Tracker(l)
		file := filepath.Join(dir, rel+".tracker.json")
		os.WriteFile(file, tracker, 0o644)
		c, err := cache.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		db, err := vuln.Load(c, vuln.Files{Tracker: file, KEV: "testdata/kev.json"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		img := vuln.Scan(rel+".yaml", l, db)
		if len(img.Findings) != 1 || img.Findings[0].ID != vulntest.FixableID || img.Findings[0].Status != vuln.Fixable || img.Findings[0].Source != srcs[0] {
			t.Errorf("%s: findings %+v, want %s fixable in %s", rel, img.Findings, vulntest.FixableID, srcs[0])
		}
		if len(img.Verdicts) != 1 || img.Verdicts[0].ID != vulntest.FixedID || img.Verdicts[0].Status != vuln.Fixed || img.Verdicts[0].Source != srcs[1] {
			t.Errorf("%s: verdicts %+v, want %s fixed in %s", rel, img.Verdicts, vulntest.FixedID, srcs[1])
		}
		for _, f := range append(img.Findings, img.Verdicts...) {
			t.Logf("%s (%s): %s %s %s, fixed in %s, packages %v", rel, l.Release, f.ID, f.Source, f.SourceVersion, f.FixedVersion, f.Packages)
		}
	}
}
