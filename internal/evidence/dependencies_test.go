package evidence

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/spec"
)

// debianLock is a two-architecture lock of Debian's packages only: one
// from -security, one Architecture: all package both closures share.
func debianLock() Input {
	pk := func(name, ver, arch, suite string) spec.LockedPackage {
		return spec.LockedPackage{Name: name, Version: ver, Architecture: arch, Source: name, SourceVersion: ver, Suite: suite,
			Filename: "pool/main/" + name[:1] + "/" + name + "/" + name + "_" + ver + "_" + arch + ".deb", SHA256: digest(name + " " + arch), Size: 10}
	}
	l := &spec.Lock{Release: "bookworm", Architectures: map[string]*spec.LockArch{}}
	for _, arch := range []string{"amd64", "arm64"} {
		l.Architectures[arch] = &spec.LockArch{Packages: []spec.LockedPackage{
			pk("libc6", "2.36-9+deb12u14", arch, "bookworm-security"),
			pk("tzdata", "2025b-0+deb12u2", "all", "bookworm-updates"),
			pk("python3", "3.11.2-1+b1", arch, "bookworm"),
		}}
	}
	return Input{
		Def:     &spec.Definition{Name: "python", Version: "3.11", Architectures: []string{"amd64", "arm64"}},
		Lock:    l,
		Mirrors: archive.Mirrors{Archive: "http://mirror.test/debian", Security: "http://mirror.test/debian-security"},
	}
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestDebianOnlyDependenciesGolden: the provenance's resolvedDependencies
// of a lock of Debian's packages only are, byte for byte, what temper
// recorded before packages could come from designated repositories or
// local_debs (testdata/debian-only.dependencies.json, written by that
// code). TEMPER_UPDATE_GOLDEN=1 rewrites it: only for a deliberate change.
func TestDebianOnlyDependenciesGolden(t *testing.T) {
	got, err := json.MarshalIndent(dependencies(debianLock()), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "debian-only.dependencies.json")
	if os.Getenv("TEMPER_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("resolvedDependencies changed:\n%s", got)
	}
}
