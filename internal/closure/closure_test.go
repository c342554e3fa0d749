package closure

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/hostile"
	"github.com/temper-dev/temper/internal/spec"
)

type p struct{ name, version, fields string }

func lockOf(t *testing.T, pkgs ...p) (*spec.Lock, map[string][]byte) {
	t.Helper()
	l := &spec.Lock{Architectures: map[string]*spec.LockArch{"amd64": {}}}
	debs := map[string][]byte{}
	for _, x := range pkgs {
		var extra []string
		if x.fields != "" {
			extra = strings.Split(x.fields, "\n")
		}
		b := hostile.Deb(hostile.Control(x.name, x.version, "amd64", extra...), nil, "data.tar", hostile.Tar())
		s := sha256.Sum256(b)
		sum := hex.EncodeToString(s[:])
		debs[sum] = b
		l.Architectures["amd64"].Packages = append(l.Architectures["amd64"].Packages, spec.LockedPackage{
			Name: x.name, Version: x.version, Architecture: "amd64", SHA256: sum, Size: int64(len(b)),
			Filename: "pool/main/x/" + x.name + "_" + x.version + "_amd64.deb"})
	}
	return l, debs
}

func TestClosed(t *testing.T) {
	l, debs := lockOf(t,
		p{"app", "1.0", "Depends: libc6 (>= 2.36), mail-transport-agent | exim4, python3:any\nPre-Depends: init-system-helpers (>= 1.54~)"},
		p{"libc6", "2.36-9", ""},
		p{"postfix", "3.7", "Provides: mail-transport-agent"},
		p{"python3", "3.11", "Multi-Arch: allowed"},
		p{"init-system-helpers", "1.65", "Depends: perl-base [!amd64]"},
	)
	if err := Check(l, "amd64", debs, nil); err != nil {
		t.Fatal(err)
	}
}

// A hand edit that removes a dependency, or leaves a version too old, is
// refused naming the package and the relation.
func TestMissing(t *testing.T) {
	l, debs := lockOf(t,
		p{"app", "1.0", "Depends: libc6 (>= 2.40), libssl3\nPre-Depends: python3:any"},
		p{"libc6", "2.36-9", ""},
		p{"python3", "3.11", ""}, // not Multi-Arch: allowed
		p{"ca", "1", "Depends: debconf"},
	)
	err := Check(l, "amd64", debs, []string{"ca"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"not a closed set", "run `temper lock`",
		"app 1.0 depends on libc6 (>= 2.40), which no package of the lock satisfies (the lock has libc6 2.36-9)",
		"app 1.0 depends on libssl3, which no package of the lock satisfies (none of its packages is in the lock)",
		"app 1.0 depends on python3:any",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "debconf") {
		t.Errorf("no_dependencies not honoured: %v", err)
	}
}

// Versioned Provides satisfy versioned relations; unversioned ones only
// unversioned relations.
func TestProvidesVersions(t *testing.T) {
	l, debs := lockOf(t,
		p{"a", "1", "Depends: awk (>= 1)"},
		p{"mawk", "1.3", "Provides: awk"},
	)
	if err := Check(l, "amd64", debs, nil); err == nil || !strings.Contains(err.Error(), "a 1 depends on awk (>= 1)") {
		t.Errorf("got %v", err)
	}
	l, debs = lockOf(t,
		p{"a", "1", "Depends: awk (>= 1)"},
		p{"mawk", "1.3", "Provides: awk (= 1.3)"},
	)
	if err := Check(l, "amd64", debs, nil); err != nil {
		t.Error(err)
	}
}

// A .deb that is not the package the lock names is refused.
func TestWrongDeb(t *testing.T) {
	l, debs := lockOf(t, p{"a", "1", ""})
	l.Architectures["amd64"].Packages[0].Version = "2"
	if err := Check(l, "amd64", debs, nil); err == nil || !strings.Contains(err.Error(), "the .deb is a 1, not what the lock names") {
		t.Errorf("got %v", err)
	}
}
