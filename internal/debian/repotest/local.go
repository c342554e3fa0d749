package repotest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// LocalRepo makes the directory of .deb files dir an unsigned flat apt
// repository, as a team would for .debs kept beside its catalog: a
// Packages file written by Debian's dpkg-scanpackages (every version of
// every package, Filename relative to dir), no Release. apt reads it with
// "deb [trusted=yes] file:DIR ./" at the default priority 500. It returns
// the repository's URI (file:DIR, absolute). It needs dpkg-scanpackages
// (Debian package dpkg-dev).
func LocalRepo(t testing.TB, dir string) string {
	t.Helper()
	Require(t, "dpkg-scanpackages")
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dpkg-scanpackages", "--multiversion", ".", "/dev/null")
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("repotest: dpkg-scanpackages in %s: %v\n%s", abs, err, stderr)
	}
	if err := os.WriteFile(filepath.Join(abs, "Packages"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	return "file:" + abs
}
