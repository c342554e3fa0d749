package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/temper-dev/temper/internal/debian/release/releasetest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
)

// checkArchive is the CLI fixture archive, optionally with a newer
// python3.11 in the security suite.
func checkArchive(key *openpgp.Entity, newer bool) *testarchive.Archive {
	sec := []testarchive.Package{{Name: "python3.11", Version: "3.11.2-6+deb12u6", Arch: "amd64"}}
	if newer {
		sec = append(sec, testarchive.Package{Name: "python3.11", Version: "3.11.2-6+deb12u7", Arch: "amd64"})
	}
	return &testarchive.Archive{Signers: []*openpgp.Entity{key}, Suites: []testarchive.Suite{
		{Name: "bookworm", Packages: []testarchive.Package{
			{Name: "python3", Version: "3.11.2-1+b1", Arch: "amd64", Fields: map[string]string{"Source": "python3-defaults (3.11.2-1)", "Depends": "python3.11 (>= 3.11.2-1~)"}},
			{Name: "python3.11", Version: "3.11.2-6+deb12u1", Arch: "amd64"},
		}},
		{Name: "bookworm-updates"},
		{Name: "bookworm-security", Archive: "debian-security", Packages: sec},
	}}
}

func TestCheckAndUpdateCLI(t *testing.T) {
	key := releasetest.NewKeyAt(t, "check fixture", "ed25519", testarchive.KeyCreation, 0)
	e := &cliEnv{srv: testarchive.Serve(t, checkArchive(key, false).Files(t)), aptRoot: t.TempDir(), cache: t.TempDir()}
	var kr bytes.Buffer
	if err := key.Serialize(&kr); err != nil {
		t.Fatal(err)
	}
	e.keyring = filepath.Join(t.TempDir(), "keyring.gpg")
	os.WriteFile(e.keyring, kr.Bytes(), 0o644)
	dir := filepath.Join(e.aptRoot, "etc/apt/sources.list.d")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "debian.sources"), []byte("Types: deb\nURIs: "+e.srv.ArchiveURL()+"\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: "+e.srv.SecurityURL()+"\nSuites: bookworm-security\nComponents: main\n"), 0o644)

	status := -1
	// run records the status the process would exit with.
	run := func(args ...string) (string, error) {
		out, err := e.run(t, args...)
		status = -1
		var st exitStatus
		if errors.As(err, &st) {
			status, err = int(st), nil
		}
		return out, err
	}

	cat := t.TempDir()
	def := filepath.Join(cat, "python.yaml")
	os.WriteFile(def, []byte("name: python\nversion: \"3.11\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [python3]\n"), 0o644)
	os.WriteFile(filepath.Join(cat, "unlocked.yaml"), []byte("name: unlocked\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [python3]\n"), 0o644)
	if out, err := run("lock", def); err != nil {
		t.Fatal(out, err)
	}
	out, err := run("check", def)
	if err != nil || status != -1 || !strings.Contains(out, "up-to-date") {
		t.Fatalf("check: status %d err %v\n%s", status, err, out)
	}

	for p, data := range checkArchive(key, true).Files(t) {
		e.srv.SetFile(p, data)
	}
	out, err = run("check", "--json", cat)
	if err != nil || status != 10 {
		t.Fatalf("check --json: status %d err %v\n%s", status, err, out)
	}
	var doc struct {
		Schema     string `json:"schema"`
		ExitStatus int    `json:"exit_status"`
		Images     []struct {
			Definition, Verdict string
			Changes             []struct{ Name, New_version string }
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.Schema != "temper.check/v1" || doc.ExitStatus != 10 || len(doc.Images) != 2 ||
		doc.Images[0].Verdict != "security" || doc.Images[0].Changes[0].New_version != "3.11.2-6+deb12u7" || doc.Images[1].Verdict != "not-locked" {
		t.Fatalf("%s", out)
	}

	lockPath := filepath.Join(cat, "python.lock.yaml")
	before, _ := os.ReadFile(lockPath)
	status = -1
	out, err = run("update", "--dry-run", def)
	if after, _ := os.ReadFile(lockPath); err != nil || !bytes.Equal(before, after) || !strings.Contains(out, "would write") {
		t.Fatalf("update --dry-run: %v\n%s", err, out)
	}
	out, err = run("update", def)
	if err != nil || status != -1 || !strings.Contains(out, "python3.11 3.11.2-6+deb12u6 → 3.11.2-6+deb12u7 (bookworm-security)") {
		t.Fatalf("update: status %d err %v\n%s", status, err, out)
	}
	if after, _ := os.ReadFile(lockPath); !strings.Contains(string(after), "3.11.2-6+deb12u7") {
		t.Fatalf("lock not updated:\n%s", after)
	}
	if out, err = run("check", def); err != nil || status != -1 {
		t.Fatalf("check after update: status %d err %v\n%s", status, err, out)
	}
}
