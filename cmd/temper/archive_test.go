package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/temper-dev/temper/internal/debian/release/releasetest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
)

type cliEnv struct {
	srv     *testarchive.Server
	keyring string
	aptRoot string
	cache   string
}

func newCLIEnv(t *testing.T) *cliEnv {
	return newCLIEnvArchive(t, func(key *openpgp.Entity) *testarchive.Archive {
		return &testarchive.Archive{Signers: []*openpgp.Entity{key}, Suites: cliSuites}
	})
}

var cliSuites = []testarchive.Suite{
	{Name: "bookworm", Packages: []testarchive.Package{
		{Name: "python3", Version: "3.11.2-1+b1", Arch: "amd64", Fields: map[string]string{"Source": "python3-defaults (3.11.2-1)", "Depends": "python3.11 (>= 3.11.2-1~)", "Pre-Depends": "libc6 (>= 2.36)"}},
		{Name: "python3.11", Version: "3.11.2-6+deb12u1", Arch: "amd64"},
	}},
	{Name: "bookworm-updates"},
	{Name: "bookworm-security", Archive: "debian-security", Packages: []testarchive.Package{
		{Name: "python3.11", Version: "3.11.2-6+deb12u6", Arch: "amd64"},
	}},
}

// newCLIEnvArchive serves the archive made with a fresh signing key and
// points a private apt root's sources at it.
func newCLIEnvArchive(t *testing.T, archive func(key *openpgp.Entity) *testarchive.Archive) *cliEnv {
	key := releasetest.NewKeyAt(t, "CLI fixture", "ed25519", testarchive.KeyCreation, 0)
	a := archive(key)
	e := &cliEnv{srv: testarchive.Serve(t, a.Files(t)), aptRoot: t.TempDir(), cache: t.TempDir()}
	var kr bytes.Buffer
	if err := key.Serialize(&kr); err != nil {
		t.Fatal(err)
	}
	e.keyring = filepath.Join(t.TempDir(), "keyring.gpg")
	if err := os.WriteFile(e.keyring, kr.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// The machine's apt sources name the fixture archive, as a real
	// machine's name its mirror.
	dir := filepath.Join(e.aptRoot, "etc/apt/sources.list.d")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "debian.sources"), []byte("Types: deb\nURIs: "+e.srv.ArchiveURL()+"\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: "+e.srv.SecurityURL()+"\nSuites: bookworm-security\nComponents: main\n"), 0o644)
	return e
}

func (e *cliEnv) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	g := &globalFlags{aptRoot: e.aptRoot, now: func() time.Time { return testarchive.DefaultDate.Add(time.Hour) }}
	root := newRootCommand(g)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"--cache", e.cache, "--keyring", e.keyring}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestArchiveShowText(t *testing.T) {
	e := newCLIEnv(t)
	out, err := e.run(t, "archive", "show", "python3.11", "--release", "bookworm")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Candidate: 3.11.2-6+deb12u6 (bookworm-security)",
		"*** 3.11.2-6+deb12u6",
		"3.11.2-6+deb12u1",
		"bookworm-updates",
		"2026-01-01 00:00 UTC",
		"from apt sources",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestArchiveShowJSON(t *testing.T) {
	e := newCLIEnv(t)
	out, err := e.run(t, "archive", "show", "python3", "--release", "bookworm", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r showResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Candidate.Version != "3.11.2-1+b1" || r.Candidate.Suite != "bookworm" || len(r.Suites) != 3 {
		t.Errorf("result = %+v", r)
	}
	v := r.Versions[0]
	if v.Source != "python3-defaults" || v.SourceVersion != "3.11.2-1" || v.PreDepends != "libc6 (>= 2.36)" || len(v.SHA256) != 64 || v.Size == 0 {
		t.Errorf("version = %+v", v)
	}
	if r.Suites[2].Name != "bookworm-security" || !strings.HasPrefix(r.Suites[2].URL, e.srv.SecurityURL()) || len(r.Suites[2].SignedBy) != 1 {
		t.Errorf("security suite = %+v", r.Suites[2])
	}
}

func TestArchiveShowErrors(t *testing.T) {
	e := newCLIEnv(t)
	_, err := e.run(t, "archive", "show", "pyhton3", "--release", "bookworm")
	if err == nil || !strings.Contains(err.Error(), "did you mean: python3") {
		t.Errorf("unknown package error = %v", err)
	}
	_, err = e.run(t, "archive", "show", "python3")
	if err == nil || !strings.Contains(err.Error(), "release") {
		t.Errorf("missing --release error = %v", err)
	}
	_, err = e.run(t, "archive", "show", "python3", "--release", "stable")
	if err == nil || !strings.Contains(err.Error(), "codename") {
		t.Errorf("alias release error = %v", err)
	}
	// No apt sources and no flags: the error says how to name a mirror.
	e.aptRoot = t.TempDir()
	_, err = e.run(t, "archive", "show", "python3", "--release", "bookworm")
	if err == nil || !strings.Contains(err.Error(), "--archive") {
		t.Errorf("no mirror error = %v", err)
	}
	// Flags win over (absent) apt sources.
	if _, err := e.run(t, "--archive", e.srv.ArchiveURL(), "--security-archive", e.srv.SecurityURL(), "archive", "show", "python3", "--release", "bookworm"); err != nil {
		t.Errorf("with flags: %v", err)
	}
}

func TestVersionCommand(t *testing.T) {
	e := &cliEnv{}
	out, err := e.run(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "temper ") || !strings.Contains(out, "go1.") {
		t.Errorf("version output %q", out)
	}
}
