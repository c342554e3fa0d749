package sbom

import (
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/spec"
)

// TestRepositoriesAnnotation: the record is written for every lock (an
// empty set per architecture for Debian's packages alone, so a scan can
// tell such an image from one built before the record), lists every
// architecture built, sorted, and reads back; a record
// that lists a package under two repositories, or is not an object of
// architectures, is refused.
func TestRepositoriesAnnotation(t *testing.T) {
	pkgs := func(ps ...spec.LockedPackage) *spec.LockArch { return &spec.LockArch{Packages: ps} }
	debianOnly := &spec.Lock{Architectures: map[string]*spec.LockArch{"amd64": pkgs(spec.LockedPackage{Name: "libc6"})}}
	if v := RepositoriesAnnotation(debianOnly, []string{"amd64"}); v != `{"amd64":{}}` {
		t.Errorf("Debian-only lock: %q", v)
	}
	l := &spec.Lock{
		Repositories: []spec.LockRepository{{Name: "php"}},
		LocalDebs:    []spec.LockFile{{}},
		Architectures: map[string]*spec.LockArch{
			"amd64": pkgs(spec.LockedPackage{Name: "php8.3-cli", Repository: "php"}, spec.LockedPackage{Name: "libc6"},
				spec.LockedPackage{Name: "inhouse", Repository: spec.LocalRepository}, spec.LockedPackage{Name: "php8.3-common", Repository: "php"}),
			"arm64": pkgs(spec.LockedPackage{Name: "libc6"}),
		},
	}
	v := RepositoriesAnnotation(l, []string{"arm64", "amd64"})
	if want := `{"amd64":{"local":["inhouse"],"php":["php8.3-cli","php8.3-common"]},"arm64":{}}`; v != want {
		t.Fatalf("annotation %q, want %q", v, want)
	}
	o, err := ParseRepositoriesAnnotation(v)
	if err != nil || len(o) != 2 || o["amd64"]["php8.3-common"] != "php" || o["amd64"]["inhouse"] != "local" || o["amd64"]["libc6"] != "" || len(o["arm64"]) != 0 {
		t.Errorf("read back: %v %v", o, err)
	}
	for _, c := range []struct{ v, err string }{
		{`{"amd64":{"php":["a"],"other":["a"]}}`, "package a listed under repositories"},
		{`null`, "not an object of architectures"},
		{`["amd64"]`, "cannot unmarshal"},
		{`{"amd64":{"":["a"]}}`, "a repository without a name"},
	} {
		if _, err := ParseRepositoriesAnnotation(c.v); err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), AnnotationRepositories) {
			t.Errorf("%s: %v, want %q", c.v, err, c.err)
		}
	}
}
