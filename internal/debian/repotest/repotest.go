// Package repotest makes real third-party apt repositories for tests with
// Debian's own tools, not temper's: a gpg key generated in a throwaway
// GNUPGHOME, a repository built and signed by reprepro from .deb files, and
// a flat repository (apt's "deb URL ./") whose Release is clearsigned by
// gpg. Both are served over httptest on 127.0.0.1.
//
// Tests that use it need gpg and reprepro (Debian packages gnupg and
// reprepro; .ci/run installs them). Require skips the test when they are
// missing, unless CI=true, where missing tools fail it.
package repotest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Require skips the test when a tool is missing (fails it under CI=true).
func Require(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not found: .ci/run installs it", tool)
			}
			t.Skipf("%s not found (apt-get install %s); CI=true runs this test", tool, tool)
		}
	}
}

// Key is a gpg key in its own GNUPGHOME.
type Key struct {
	Home        string // GNUPGHOME
	Fingerprint string // 40 upper-case hex digits
	Armored     string // path of the ASCII-armored public key (.asc)
	Binary      string // path of the binary public key (.gpg), for apt's signed-by
}

// NewKey generates an ed25519 signing key without passphrase with gpg
// --batch --quick-gen-key, and exports its public key. The agent is
// stopped when the test ends.
func NewKey(t testing.TB, name string) *Key {
	t.Helper()
	Require(t, "gpg", "gpgconf")
	// A short path: the agent's socket lives in GNUPGHOME.
	home, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(home, 0o700)
	k := &Key{Home: home}
	t.Cleanup(func() {
		cmd := exec.Command("gpgconf", "--kill", "all")
		cmd.Env = append(os.Environ(), "GNUPGHOME="+home)
		_ = cmd.Run()
		os.RemoveAll(home)
	})
	k.gpg(t, nil, "--quick-gen-key", "--passphrase", "", name, "ed25519", "sign", "never")
	out := k.gpg(t, nil, "--with-colons", "--list-keys", name)
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Split(line, ":"); len(f) > 9 && f[0] == "fpr" {
			k.Fingerprint = f[9]
			break
		}
	}
	if len(k.Fingerprint) != 40 {
		t.Fatalf("repotest: no fingerprint in gpg output:\n%s", out)
	}
	dir := t.TempDir()
	k.Armored = filepath.Join(dir, "key.asc")
	k.Binary = filepath.Join(dir, "key.gpg")
	if err := os.WriteFile(k.Armored, k.gpg(t, nil, "--armor", "--export", k.Fingerprint), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k.Binary, k.gpg(t, nil, "--export", k.Fingerprint), 0o644); err != nil {
		t.Fatal(err)
	}
	return k
}

func (k *Key) gpg(t testing.TB, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("gpg", append([]string{"--batch", "--yes", "--pinentry-mode", "loopback"}, args...)...)
	cmd.Env = append(os.Environ(), "GNUPGHOME="+k.Home, "LC_ALL=C")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("repotest: gpg %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// ClearSign returns body clearsigned by the key (an InRelease file).
func (k *Key) ClearSign(t testing.TB, body []byte) []byte {
	t.Helper()
	return k.gpg(t, body, "--digest-algo", "SHA256", "--local-user", k.Fingerprint, "--clearsign")
}

// Repo is a reprepro repository.
type Repo struct {
	Dir      string // reprepro's base directory: conf/, dists/, pool/
	Key      *Key
	Codename string
	Origin   string
}

// NewRepo makes an empty reprepro repository for one codename (component
// main, amd64 and arm64) signed by key, with the given Origin and Label.
func NewRepo(t testing.TB, key *Key, origin, codename string) *Repo {
	t.Helper()
	Require(t, "reprepro")
	r := &Repo{Dir: t.TempDir(), Key: key, Codename: codename, Origin: origin}
	conf := fmt.Sprintf("Origin: %s\nLabel: %s\nCodename: %s\nArchitectures: amd64 arm64\nComponents: main\nDescription: repotest repository\nSignWith: %s\n",
		origin, origin, codename, key.Fingerprint)
	if err := os.MkdirAll(filepath.Join(r.Dir, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.Dir, "conf", "distributions"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	r.reprepro(t, "export", codename)
	return r
}

func (r *Repo) reprepro(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command("reprepro", append([]string{"--basedir", r.Dir, "--silent"}, args...)...)
	cmd.Env = append(os.Environ(), "GNUPGHOME="+r.Key.Home, "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("repotest: reprepro %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Include adds .deb files (given as bytes, written to temporary files
// named after their content) with reprepro includedeb, which re-exports and
// re-signs the suite. A newer version replaces the older one, as in a real
// repository.
func (r *Repo) Include(t testing.TB, debs ...[]byte) {
	t.Helper()
	dir := t.TempDir()
	args := []string{"includedeb", r.Codename}
	for i, d := range debs {
		sum := sha256.Sum256(d)
		p := filepath.Join(dir, fmt.Sprintf("%d-%s.deb", i, hex.EncodeToString(sum[:8])))
		if err := os.WriteFile(p, d, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	// reprepro stamps Date from the clock with one-second resolution: make
	// a re-export within the same second still differ from the last.
	time.Sleep(1100 * time.Millisecond)
	r.reprepro(t, args...)
}

// Packages returns the suite's main/binary-<arch>/Packages as reprepro
// exported it.
func (r *Repo) Packages(t testing.TB, arch string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(r.Dir, "dists", r.Codename, "main", "binary-"+arch, "Packages"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// WriteFlat writes a flat repository below the repository's base
// directory, in dir (e.g. "flat"): its Packages is the suite's for arch
// (pool paths stay relative to the base URL, as apt expects of a flat
// repository), its Release lists it, and InRelease is clearsigned by gpg.
// There is no Acquire-By-Hash.
func (r *Repo) WriteFlat(t testing.TB, dir, arch string) {
	t.Helper()
	pkgs := r.Packages(t, arch)
	sum := sha256.Sum256(pkgs)
	rel := fmt.Sprintf("Origin: %s-flat\nLabel: %s-flat\nDate: %s\nSHA256:\n %s %d Packages\n",
		r.Origin, r.Origin, time.Now().UTC().Format(time.RFC1123), hex.EncodeToString(sum[:]), len(pkgs))
	d := filepath.Join(r.Dir, dir)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"Packages": pkgs, "Release": []byte(rel), "InRelease": r.Key.ClearSign(t, []byte(rel))} {
		if err := os.WriteFile(filepath.Join(d, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Serve serves the repository's directory on 127.0.0.1 (closed when the
// test ends) and returns its base URL.
func (r *Repo) Serve(t testing.TB) string {
	t.Helper()
	s := httptest.NewServer(http.FileServer(http.Dir(r.Dir)))
	t.Cleanup(s.Close)
	return s.URL
}

// InRelease returns the suite's current InRelease file.
func (r *Repo) InRelease(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(r.Dir, "dists", r.Codename, "InRelease"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
