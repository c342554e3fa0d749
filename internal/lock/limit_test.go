package lock_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/temper-dev/temper/internal/debian/release/releasetest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/spec"
)

// A Packages index whose Size for a package exceeds the per-.deb limit
// (Size: 100000000000) is refused at lock time, naming the package, the
// size and the limit: a lock pinning it could never be built, so none is
// written.
func TestLockRefusesOversizedDeb(t *testing.T) {
	key := releasetest.NewKeyAt(t, "lock fixture", "ed25519", testarchive.KeyCreation, 0)
	a := &testarchive.Archive{Signers: []*openpgp.Entity{key}, Suites: []testarchive.Suite{
		{Name: "bookworm", Architectures: []string{"amd64"}, Packages: []testarchive.Package{
			{Name: "libc6", Version: "2.36-9", Arch: "amd64"},
			{Name: "huge", Version: "1.0", Arch: "amd64", Fields: map[string]string{"Depends": "libc6"}, Size: 100000000000},
		}},
		{Name: "bookworm-updates", Architectures: []string{"amd64"}},
		{Name: "bookworm-security", Archive: "debian-security", Architectures: []string{"amd64"}},
	}}
	srv := testarchive.Serve(t, a.Files(t))
	dir := t.TempDir()
	def := filepath.Join(dir, "huge.yaml")
	os.WriteFile(def, []byte("name: huge\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [huge]\n"), 0o644)
	outs, err := lock.Run(context.Background(), []string{def}, lock.Options{Client: srv.Client(t, t.TempDir(), key)})
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 || outs[0].Err == nil {
		t.Fatalf("got %+v, want the definition refused", outs)
	}
	for _, w := range []string{"huge.yaml", "package huge 1.0 (amd64) in bookworm", "pool/main/h/huge/huge_1.0_amd64.deb", "per-.deb limit of 2 GiB (TEMPER_LIMIT_DEB)", "100000000000"} {
		if !strings.Contains(outs[0].Err.Error(), w) {
			t.Errorf("error %q does not name %q", outs[0].Err, w)
		}
	}
	if _, err := os.Stat(spec.LockPath(def)); err == nil {
		t.Error("a lock was written")
	}
	if srv.TotalHits(".deb") > 0 {
		t.Error("a .deb was requested")
	}
}
