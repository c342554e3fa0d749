package lock_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/resolve"
	"github.com/temper-dev/temper/internal/spec"
)

// TestLocalDebsExample locks examples/catalog-repositories/inhouse (a
// .deb kept in the catalog, local_debs:) against the fixture archive: for
// both architectures the package comes from the local .deb, pinned by the
// committed file's SHA-256, and its dependencies from Debian's suites.
func TestLocalDebsExample(t *testing.T) {
	f := newFixture(t)
	src := filepath.Join("..", "..", "examples", "catalog-repositories", "inhouse", "tools-bookworm.yaml")
	def, err := spec.LoadDefinition(src)
	if err != nil {
		t.Fatal(err)
	}
	deb, err := os.ReadFile(filepath.Join(filepath.Dir(src), "debs", "inhouse-tools_1.0_all.deb"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(deb)
	l, err := lock.Resolve(context.Background(), def, resolve.LoadOnce(f.client()))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.LocalDebs) != 1 || l.LocalDebs[0].SHA256 != hex.EncodeToString(sum[:]) || l.LocalDebs[0].Src != "debs/inhouse-tools_1.0_all.deb" {
		t.Fatalf("local_debs: %+v", l.LocalDebs)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		from := map[string]string{}
		for _, p := range l.Architectures[arch].Packages {
			from[p.Name] = p.Repository + " " + p.Suite + " " + p.Version
		}
		want := map[string]string{
			"inhouse-tools": "local local 1.0",
			"libc6":         " bookworm-security 2.36-9+deb12u10",
			"tzdata":        " bookworm 2025b-0+deb12u1",
		}
		if len(from) != len(want) {
			t.Errorf("%s: %v", arch, from)
		}
		for name, w := range want {
			if from[name] != w {
				t.Errorf("%s: %s from %q, want %q", arch, name, from[name], w)
			}
		}
	}
}
