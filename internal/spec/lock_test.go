package spec

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func digest(c byte) string { return strings.Repeat(string(c), 64) }

// sampleLock is deliberately out of order: Marshal must sort it.
func sampleLock() *Lock {
	date := time.Date(2026, 7, 11, 10, 16, 37, 0, time.UTC)
	pkg := func(name, ver, arch, src, srcVer, suite string, rb ...string) LockedPackage {
		return LockedPackage{
			Name: name, Version: ver, Architecture: arch, Source: src, SourceVersion: srcVer, Suite: suite,
			Filename: "pool/main/" + src[:1] + "/" + src + "/" + name + "_" + strings.ReplaceAll(ver, ":", "%3a") + "_" + arch + ".deb",
			SHA256:   digest(name[0]%6 + 'a'), Size: int64(1000 + len(name)), InstalledSize: int64(10 * len(name)), RequiredBy: rb,
		}
	}
	return &Lock{
		Definition: LockDefinition{File: "python-3.11.yaml", SHA256: digest('1')},
		Release:    "bookworm",
		Suites: []LockSuite{
			{Name: "bookworm", InReleaseSHA256: digest('2'), Date: date.Add(-24 * time.Hour)},
			{Name: "bookworm-updates", InReleaseSHA256: digest('3'), Date: date.In(time.FixedZone("CEST", 7200))},
			{Name: "bookworm-security", InReleaseSHA256: digest('4'), Date: date},
		},
		Architectures: map[string]*LockArch{
			"arm64": {Packages: []LockedPackage{
				pkg("tzdata", "2024a-0+deb12u1", "all", "tzdata", "2024a-0+deb12u1", "bookworm-updates", "definition"),
				pkg("libc6", "2.36-9+deb12u14", "arm64", "glibc", "2.36-9+deb12u14", "bookworm-security", "tzdata", "definition"),
			}},
			"amd64": {Packages: []LockedPackage{
				pkg("tzdata", "2024a-0+deb12u1", "all", "tzdata", "2024a-0+deb12u1", "bookworm-updates", "definition"),
				pkg("x11-common", "1:7.7+23", "all", "xorg", "1:7.7+23", "bookworm", "libc6", "definition"),
				pkg("python3.11", "3.11", "amd64", "python3.11", "3.11", "bookworm", "definition", "definition"),
				pkg("libfoo1", "1.0", "amd64", "foo", "1.0", "bookworm", "x11-common"),
				pkg("libc6", "2.36-9+deb12u14", "amd64", "glibc", "2.36-9+deb12u14", "bookworm-security", "x11-common", "python3.11", "tzdata"),
				pkg("true", "1:2.36-9", "amd64", "null", "1:2.36-9", "bookworm", "libc6"),
			}},
		},
	}
}

func TestLockGolden(t *testing.T) {
	got, err := sampleLock().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "lock.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Marshal differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
	for i, line := range strings.Split(string(got), "\n") {
		if strings.TrimRight(line, " \t") != line {
			t.Errorf("line %d has trailing space: %q", i+1, line)
		}
	}
	if !strings.HasPrefix(string(got), LockHeader+"\n") {
		t.Errorf("no header line")
	}
}

func TestLockRoundTrip(t *testing.T) {
	l := sampleLock()
	first, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseLock("x.lock.yaml", first)
	if err != nil {
		t.Fatal(err)
	}
	second, err := parsed.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Fatalf("round trip differs:\n%s\n---\n%s", first, second)
	}
	versions := map[string]string{}
	for _, p := range parsed.Architectures["amd64"].Packages {
		versions[p.Name] = p.Version
	}
	for name, want := range map[string]string{"true": "1:2.36-9", "libfoo1": "1.0", "tzdata": "2024a-0+deb12u1", "python3.11": "3.11", "x11-common": "1:7.7+23"} {
		if versions[name] != want {
			t.Errorf("%s version = %q, want %q", name, versions[name], want)
		}
	}
	if l.Digest() != parsed.Digest() || len(l.Digest()) != 64 {
		t.Errorf("digests differ: %s %s", l.Digest(), parsed.Digest())
	}
	if !parsed.Suites[1].Date.Equal(l.Suites[1].Date) {
		t.Errorf("date = %v", parsed.Suites[1].Date)
	}
}

func TestLockMarshalDoesNotMutate(t *testing.T) {
	l := sampleLock()
	before := l.Architectures["amd64"].Packages[0].Name
	if _, err := l.Marshal(); err != nil {
		t.Fatal(err)
	}
	if l.Architectures["amd64"].Packages[0].Name != before {
		t.Errorf("Marshal reordered the caller's packages")
	}
}

func TestLockDigestIgnoresOrder(t *testing.T) {
	a, b := sampleLock(), sampleLock()
	p := b.Architectures["amd64"].Packages
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
	rb := p[1].RequiredBy
	for i, j := 0, len(rb)-1; i < j; i, j = i+1, j-1 {
		rb[i], rb[j] = rb[j], rb[i]
	}
	if a.Digest() != b.Digest() {
		t.Errorf("digest depends on input order")
	}
	b.Architectures["amd64"].Packages[0].Size++
	if a.Digest() == b.Digest() {
		t.Errorf("digest ignores a change")
	}
}

func TestScalarRoundTrips(t *testing.T) {
	for _, s := range []string{"1:2.36-9", "1.0", "2024a-0+deb12u1", "3.11", "1e5", "0x1f", "0o17", "true", "True", "no", "Y", "null", "~", "",
		"2026-07-11", "-1", "+1", ".5", ".inf", "a b", "a: b", "#x", "x#y", "[a]", "{a}", "a,b", "'q'", "\"q\"", "é", "tab\there", "line\nbreak", "<&>",
		"1_000", "12:30", "1.2.3", "7.7+23", "1~rc1", "libstdc++6", "pool/main/g/glibc/libc6_2.36-9+deb12u14_amd64.deb", "%3a"} {
		q := scalar(s)
		doc := "definition: {file: " + q + ", sha256: " + digest('a') + "}\n"
		root, err := parseDocument("s", []byte(doc), "lock")
		if err != nil {
			t.Errorf("%q written as %s: %v", s, q, err)
			continue
		}
		d := newDecoder("s", lockLevels)
		dm, _ := d.mapping(root.Content[1], "definition", "definition")
		got, ok := d.str(dm["file"], "definition.file")
		if !ok || got != s {
			t.Errorf("%q written as %s read back as %q (%v)", s, q, got, d.errs)
		}
	}
	for s, want := range map[string]string{"1:2.36-9": `"1:2.36-9"`, "1.0": `"1.0"`, "2.36-9+deb12u14": "2.36-9+deb12u14", "libc6": "libc6"} {
		if got := scalar(s); got != want {
			t.Errorf("scalar(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestLockInvalid(t *testing.T) {
	l := sampleLock()
	l.Architectures["amd64"].Packages[0].SHA256 = "XYZ"
	l.Architectures["amd64"].Packages[1].Suite = "sid"
	l.Architectures["amd64"].Packages[2].RequiredBy = []string{"ghost"}
	_, err := l.Marshal()
	want := `lock: architectures.amd64.packages[2].required_by[0]: "ghost" is not a package of the amd64 closure
architectures.amd64.packages[4].sha256: "XYZ" is not a lowercase hex SHA-256
architectures.amd64.packages[5].suite: "sid" is not one of the lock's suites`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
	if l.Digest() != "" {
		t.Errorf("Digest of an invalid lock should be empty")
	}
}

func TestParseLockErrors(t *testing.T) {
	good, err := sampleLock().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, old, new string
		want           []string
	}{
		{"unknown key", "        sha256: a", "        sha265: a",
			[]string{
				`x.lock.yaml:18:9: unknown key "sha265" in architectures.amd64.packages[0] (valid keys: name, version, architecture, source, source_version, suite, repository, filename, sha256, size, installed_size, required_by); did you mean "sha256"?`}},
		{"version as number", `version: "1.0"`, "version: 1.0",
			[]string{`x.lock.yaml:23:18: architectures.amd64.packages[1].version: expected a string, found the number 1.0; quote it: "1.0"`}},
		{"size as string", "size: 1006\n", "size: big\n",
			[]string{`x.lock.yaml:63:15: architectures.amd64.packages[4].size: expected an integer, found "big"`}},
		{"bad date", "date: 2026-07-11T10:16:37Z}", "date: yesterday}",
			[]string{`x.lock.yaml:6:122: suites[1].date: expected an RFC 3339 time such as 2026-07-11T10:16:37Z, found "yesterday"`}},
		{"missing key", "        required_by: [x11-common]\n", "",
			[]string{`x.lock.yaml:22:9: missing required key "required_by" in architectures.amd64.packages[1]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(string(good), tt.old, tt.new, 1)
			if src == string(good) {
				t.Fatalf("replacement %q not found", tt.old)
			}
			_, err := ParseLock("x.lock.yaml", []byte(src))
			if err == nil || err.Error() != strings.Join(tt.want, "\n") {
				t.Errorf("got:\n%v\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
		})
	}
	if _, err := ParseLock("x.lock.yaml", nil); err == nil || !strings.Contains(err.Error(), "file is empty: expected a lock") {
		t.Errorf("empty lock: %v", err)
	}
}

func TestLoadLock(t *testing.T) {
	dir := t.TempDir()
	data, err := sampleLock().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "python-3.11.lock.yaml")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := LoadLock(p)
	if err != nil {
		t.Fatal(err)
	}
	if l.Digest() != sampleLock().Digest() {
		t.Errorf("loaded lock differs")
	}
	def := &Definition{File: "defs/python-3.11.yaml", SHA256: digest('1')}
	if !l.Matches(def) {
		t.Errorf("Matches = false for the same definition")
	}
	def.SHA256 = digest('9')
	if l.Matches(def) {
		t.Errorf("Matches = true for a changed definition")
	}
}

func TestLockPath(t *testing.T) {
	for in, want := range map[string]string{
		"python-3.11.yaml":          "python-3.11.lock.yaml",
		"defs/postgresql-17.yml":    "defs/postgresql-17.lock.yaml",
		"/abs/static":               "/abs/static.lock.yaml",
		"catalog/python/3.11.yaml":  "catalog/python/3.11.lock.yaml",
		"weird.name.with.dots.yaml": "weird.name.with.dots.lock.yaml",
	} {
		if got := LockPath(in); got != want {
			t.Errorf("LockPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.lock.yaml")
	changed, err := WriteFileAtomic(p, []byte("one\n"), 0o644)
	if err != nil || !changed {
		t.Fatalf("first write: changed=%v err=%v", changed, err)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	changed, err = WriteFileAtomic(p, []byte("one\n"), 0o644)
	if err != nil || changed {
		t.Fatalf("same bytes: changed=%v err=%v", changed, err)
	}
	if fi, _ := os.Stat(p); !fi.ModTime().Equal(old) {
		t.Errorf("mtime touched by an identical write")
	}
	changed, err = WriteFileAtomic(p, []byte("two\n"), 0o600)
	if err != nil || !changed {
		t.Fatalf("new bytes: changed=%v err=%v", changed, err)
	}
	got, _ := os.ReadFile(p)
	fi, _ := os.Stat(p)
	if string(got) != "two\n" || fi.Mode().Perm() != 0o600 {
		t.Errorf("content %q mode %v", got, fi.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if _, err := WriteFileAtomic(filepath.Join(dir, "missing", "x"), []byte("x"), 0o644); err == nil {
		t.Errorf("no error writing into a missing directory")
	}
}
