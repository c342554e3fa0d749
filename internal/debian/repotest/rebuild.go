package repotest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Rebuild unpacks a real .deb with dpkg-deb -R, renames it to name at
// version ver (its Package: and Version: lines rewritten, its md5sums
// dropped), adds the files given (path relative to the package root →
// content) and builds it again with dpkg-deb --build --root-owner-group:
// a real Debian package, as a team would republish one in its own
// repository. It needs dpkg-deb.
func Rebuild(t testing.TB, deb []byte, name, ver string, add map[string]string) []byte {
	t.Helper()
	Require(t, "dpkg-deb")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.deb")
	root := filepath.Join(dir, "root")
	if err := os.WriteFile(in, deb, 0o644); err != nil {
		t.Fatal(err)
	}
	dpkgDeb(t, "-R", in, root)
	ctlPath := filepath.Join(root, "DEBIAN", "control")
	ctl, err := os.ReadFile(ctlPath)
	if err != nil {
		t.Fatal(err)
	}
	s := regexp.MustCompile(`(?m)^Package: .*$`).ReplaceAllString(string(ctl), "Package: "+name)
	s = regexp.MustCompile(`(?m)^Version: .*$`).ReplaceAllString(s, "Version: "+ver)
	if err := os.WriteFile(ctlPath, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(filepath.Join(root, "DEBIAN", "md5sums"))
	for p, data := range add {
		full := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(p, "/")))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, fmt.Sprintf("%s_%s.deb", name, ver))
	dpkgDeb(t, "--root-owner-group", "--build", root, out)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func dpkgDeb(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command("dpkg-deb", args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("repotest: dpkg-deb %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
