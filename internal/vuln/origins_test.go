package vuln

import (
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/spec"
)

// TestSetOrigins: the index's record gives recorded packages their
// repository and leaves the others Debian's; a record that does not
// describe the image is refused, naming the annotation.
func TestSetOrigins(t *testing.T) {
	image := func() *spec.Lock {
		return &spec.Lock{Release: "bookworm", Architectures: map[string]*spec.LockArch{
			"amd64": {Packages: []spec.LockedPackage{{Name: "libc6"}, {Name: "php8.3-cli"}}},
			"arm64": {Packages: []spec.LockedPackage{{Name: "libc6"}}},
		}}
	}
	l := image()
	if err := setOrigins(l, `{"amd64":{"php":["php8.3-cli"]},"arm64":{}}`); err != nil {
		t.Fatal(err)
	}
	if a := l.Architectures["amd64"].Packages; a[0].Repository != "" || a[1].Repository != "php" || l.Architectures["arm64"].Packages[0].Repository != "" {
		t.Errorf("origins set: %+v %+v", a, l.Architectures["arm64"].Packages)
	}
	for _, c := range []struct{ record, err string }{
		{`{"amd64":{"php":["php8.3-cli"]}}`, "records no arm64 image"},
		{`{"amd64":{"php":["php8.2-cli"]},"arm64":{}}`, "records php8.2-cli from repository php, which the amd64 image does not hold"},
		{`{"amd64":`, "dev.temper.repositories"},
	} {
		if err := setOrigins(image(), c.record); err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "dev.temper.repositories") {
			t.Errorf("%s: %v, want %q", c.record, err, c.err)
		}
	}
}
