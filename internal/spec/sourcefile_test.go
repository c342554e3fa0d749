package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const filesBase = "name: php\nversion: \"8.3\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [php8.3-cli]\n"

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, data := range files {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSourceFiles: files: entries are read relative to the definition,
// pinned in the lock (which round-trips), and a changed file no longer
// matches the lock.
func TestSourceFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"conf/php.ini": "memory_limit = 256M\n",
		"php.yaml": filesBase + "files:\n  - src: conf/php.ini\n    dest: /etc/php/8.3/cli/php.ini\n    mode: \"0640\"\n    owner: \"0:33\"\n"})
	def, err := LoadDefinition(filepath.Join(dir, "php.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f := def.Files[0]
	if f.Src != "conf/php.ini" || f.Dest != "/etc/php/8.3/cli/php.ini" || f.Mode != "0640" || f.Owner != "0:33" || string(f.Data) != "memory_limit = 256M\n" ||
		f.SHA256 != sha256hex([]byte("memory_limit = 256M\n")) {
		t.Fatalf("file: %+v", f)
	}
	l := &Lock{Definition: def.LockDefinition(), Release: "bookworm", Files: def.LockFiles(),
		Suites: []LockSuite{{Name: "bookworm", InReleaseSHA256: strings.Repeat("a", 64), Date: time.Unix(0, 0)},
			{Name: "bookworm-updates", InReleaseSHA256: strings.Repeat("b", 64), Date: time.Unix(0, 0)},
			{Name: "bookworm-security", InReleaseSHA256: strings.Repeat("c", 64), Date: time.Unix(0, 0)}},
		Architectures: map[string]*LockArch{"amd64": {Packages: []LockedPackage{}}}}
	data, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "files:\n  - {src: conf/php.ini, sha256: " + f.SHA256 + ", size: 20}\narchitectures:\n"
	if !strings.Contains(string(data), want) {
		t.Fatalf("lock text lacks %q:\n%s", want, data)
	}
	lp := filepath.Join(dir, "php.lock.yaml")
	os.WriteFile(lp, data, 0o644)
	back, err := LoadLock(lp)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Matches(def) || back.Digest() != l.Digest() {
		t.Fatalf("round trip: matches %v, digest %s vs %s", back.Matches(def), back.Digest(), l.Digest())
	}
	// The file changes: same definition bytes, but the lock no longer
	// matches, and says which file.
	writeFiles(t, dir, map[string]string{"conf/php.ini": "memory_limit = 512M\n"})
	def2, err := LoadDefinition(filepath.Join(dir, "php.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if def2.SHA256 != def.SHA256 || back.Matches(def2) || back.FilesChanged(def2) != "conf/php.ini" {
		t.Fatalf("changed file: matches %v, changed %q", back.Matches(def2), back.FilesChanged(def2))
	}
	// A lock without files: no files: block at all.
	l.Files = nil
	if data, _ := l.Marshal(); strings.Contains(string(data), "files") {
		t.Errorf("lock without files:\n%s", data)
	}
}

// TestSourceFileErrors: each problem at its line, with the fix.
func TestSourceFileErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"ok.conf": "x"})
	for _, c := range []struct{ entry, want string }{
		{"  - src: /etc/passwd\n    dest: /etc/x\n", `php.yaml:8:10: files[0].src: "/etc/passwd" must be relative to the definition's directory`},
		{"  - src: ../secret\n    dest: /etc/x\n", `php.yaml:8:10: files[0].src: "../secret" is outside the definition's directory`},
		{"  - src: missing.conf\n    dest: /etc/x\n", `php.yaml:8:10: files[0].src: open ` + filepath.Join(dir, "missing.conf") + `: no such file or directory; put the file there`},
		{"  - src: ok.conf\n    dest: etc/x\n", `php.yaml:9:11: files[0].dest: "etc/x" must be an absolute path`},
		{"  - src: ok.conf\n    dest: /etc/x\n    mode: rw\n", `php.yaml:10:11: files[0].mode: "rw" is not an octal mode`},
		{"  - src: ok.conf\n    dest: /etc/x\n  - src: ok.conf\n    dest: /etc/x\n", `php.yaml:11:11: files[1].dest: "/etc/x" is written by files[0] too`},
		{"  - dest: /etc/x\n", `php.yaml:8:5: missing required key "src" in files[0]`},
	} {
		p := filepath.Join(dir, "php.yaml")
		writeFiles(t, dir, map[string]string{"php.yaml": filesBase + "files:\n" + c.entry})
		_, err := LoadDefinition(p)
		if err == nil || !strings.Contains(err.Error(), strings.Replace(c.want, "php.yaml", p, 1)) {
			t.Errorf("%q:\n got %v\nwant %s", c.entry, err, c.want)
		}
	}
}

func sha256hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
