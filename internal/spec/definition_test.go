package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExamplesLoad(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".lock.yaml") {
			continue
		}
		n++
		def, err := LoadDefinition(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if def.File != f || len(def.SHA256) != 64 {
			t.Errorf("%s: File=%q SHA256=%q", f, def.File, def.SHA256)
		}
		if err := def.Validate(); err != nil {
			t.Errorf("%s: Validate after load: %v", f, err)
		}
	}
	if n < 3 {
		t.Fatalf("found %d example definitions, want at least 3", n)
	}
}

func TestPythonExample(t *testing.T) {
	def, err := LoadDefinition("testdata/python-3.11.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if def.Name != "python" || def.Version != "3.11" || def.Debian.Release != "bookworm" {
		t.Errorf("got %q %q %q", def.Name, def.Version, def.Debian.Release)
	}
	if got := strings.Join(def.Debian.Components, ","); got != "main" {
		t.Errorf("default components = %q", got)
	}
	if def.Image.User != "nonroot" {
		t.Errorf("default user = %q", def.Image.User)
	}
	if got := def.Packages[0]; got != (Package{Name: "python3.11"}) {
		t.Errorf("packages[0] = %+v", got)
	}
	if got := strings.Join(def.Suites(), " "); got != "bookworm bookworm-updates bookworm-security" {
		t.Errorf("Suites() = %q", got)
	}
	if got := def.LockPath(); got != "testdata/python-3.11.lock.yaml" {
		t.Errorf("LockPath() = %q", got)
	}
	if ld := def.LockDefinition(); ld.File != "python-3.11.yaml" || ld.SHA256 != def.SHA256 {
		t.Errorf("LockDefinition() = %+v", ld)
	}
	var kinds []string
	for _, tt := range def.Tests {
		kinds = append(kinds, tt.Kind())
	}
	if got := strings.Join(kinds, ","); got != "command,path,path,config" {
		t.Errorf("test kinds = %s", got)
	}
	if def.Tests[2].Path.Exists {
		t.Errorf("exists: false not decoded")
	}
	if !def.Tests[1].Path.Exists {
		t.Errorf("exists should default to true")
	}
}

func TestPostgresqlExample(t *testing.T) {
	def, err := LoadDefinition("testdata/postgresql-17.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := def.Image.Accounts
	if len(a) != 1 || a[0] != (Account{Name: "postgres", UID: 999, GID: 999, Home: "/var/lib/postgresql"}) {
		t.Errorf("accounts = %+v", a)
	}
	s := def.Tests[2].Service
	if s == nil || s.Port != 5432 || s.Timeout != time.Minute || len(s.Probe.Args) == 0 || len(s.WaitCommand) == 0 {
		t.Errorf("service test = %+v", s)
	}
}

func TestPinnedPackage(t *testing.T) {
	def, err := ParseDefinition("p.yaml", []byte(base+"packages: [libc6=2.36-9+deb12u14, \"tzdata=2024a-0+deb12u1\", \"x11-common=1:7.7+23\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Package{{"libc6", "2.36-9+deb12u14"}, {"tzdata", "2024a-0+deb12u1"}, {"x11-common", "1:7.7+23"}}
	for i, p := range def.Packages {
		if p != want[i] {
			t.Errorf("packages[%d] = %+v, want %+v", i, p, want[i])
		}
	}
	if got := def.Packages[2].String(); got != "x11-common=1:7.7+23" {
		t.Errorf("String() = %q", got)
	}
}

// base is a valid definition without packages; cases append to it.
const base = `name: app
version: "1"
debian: {release: bookworm}
architectures: [amd64]
`

const minimal = base + "packages: [hello]\n"

// definitionErrorCases are invalid definitions and the exact errors they
// give. schema_test.go also runs them through the JSON Schema.
var definitionErrorCases = []struct {
	name string
	yaml string
	want []string // each a whole line of the error
}{
	{"empty file", "", []string{"x.yaml: file is empty: expected a definition (a YAML mapping of keys such as name, version, debian, architectures, packages)"}},
	{"comments only", "# nothing\n", []string{"x.yaml: file is empty: expected a definition (a YAML mapping of keys such as name, version, debian, architectures, packages)"}},
	{"top-level list", "- name: app\n", []string{"x.yaml:1:1: the top level must be a mapping of keys such as name, version, debian, architectures, packages, found a list"}},
	{"top-level scalar", "hello\n", []string{`x.yaml:1:1: the top level must be a mapping of keys such as name, version, debian, architectures, packages, found "hello"`}},
	{"two documents", minimal + "---\nname: b\n", []string{"x.yaml:6:1: a second YAML document (---) in the file: a file holds exactly one definition"}},
	{"syntax error", "name: app\n  version: 1\n", []string{"x.yaml:2: invalid YAML: mapping values are not allowed in this context"}},
	{"unknown key with suggestion", "name: app\nversion: \"1\"\ndebian:\n  relase: bookworm\narchitectures: [amd64]\npackages: [hello]\n",
		[]string{`x.yaml:4:3: unknown key "relase" in debian (valid keys: release, components); did you mean "release"?`}},
	{"unknown top-level key", minimal + "pakages: [x]\n",
		[]string{`x.yaml:6:1: unknown key "pakages" at the top level (valid keys: name, version, debian, architectures, packages, recommends, providers, exclude, no_dependencies, repositories, files, local_debs, image, remove, keep, shell, hardening, tests, compression, variants); did you mean "packages"?`}},
	{"unknown key without suggestion", minimal + "colour: red\n",
		[]string{`x.yaml:6:1: unknown key "colour" at the top level (valid keys: name, version, debian, architectures, packages, recommends, providers, exclude, no_dependencies, repositories, files, local_debs, image, remove, keep, shell, hardening, tests, compression, variants)`}},
	{"unknown key in test", minimal + "tests:\n  - name: t\n    command: {args: [x], exitcode: 1}\n",
		[]string{`x.yaml:8:26: unknown key "exitcode" in tests[0].command (valid keys: args, exit, stdout, stderr); did you mean "exit"?`}},
	{"duplicate key", minimal + "name: other\n", []string{`x.yaml:6:1: duplicate key "name" at the top level (first at line 1)`}},
	{"duplicate env key", minimal + "image:\n  env: {A: x, A: y}\n", []string{`x.yaml:7:15: duplicate key "A" in image.env (first at line 7)`}},
	{"missing required keys", "name: app\n", []string{
		`x.yaml:1:1: missing required key "version" at the top level`,
		`x.yaml:1:1: missing required key "debian" at the top level`,
		`x.yaml:1:1: missing required key "architectures" at the top level`,
		`x.yaml:1:1: missing required key "packages" at the top level`}},
	{"required key without value", "name: app\nversion:\ndebian: {release: bookworm}\narchitectures: [amd64]\npackages: [hello]\n",
		[]string{`x.yaml:2:9: version: required, but has no value`}},
	{"unquoted float version", "name: app\nversion: 3.10\ndebian: {release: bookworm}\narchitectures: [amd64]\npackages: [hello]\n",
		[]string{`x.yaml:2:10: version: must be a string, found the number 3.10; quote it: version: "3.10" (unquoted, YAML reads 3.10 as 3.1)`}},
	{"unquoted int version", "name: app\nversion: 17\ndebian: {release: bookworm}\narchitectures: [amd64]\npackages: [hello]\n",
		[]string{`x.yaml:2:10: version: must be a string, found the number 17; quote it: version: "17" (unquoted, YAML reads 3.10 as 3.1)`}},
	{"bad version string", "name: app\nversion: \"-rc\"\ndebian: {release: bookworm}\narchitectures: [amd64]\npackages: [hello]\n",
		[]string{`x.yaml:2:10: version: "-rc" must be usable in an image tag: letters, digits, . _ - (not starting with . or -), at most 128 characters`}},
	{"wrong type name", "name: [a]\nversion: \"1\"\ndebian: {release: bookworm}\narchitectures: [amd64]\npackages: [hello]\n",
		[]string{`x.yaml:1:7: name: expected a string, found a list`}},
	{"bad image name", "name: Python\nversion: \"1\"\ndebian: {release: bookworm}\narchitectures: [amd64]\npackages: [hello]\n",
		[]string{`x.yaml:1:7: name: "Python" is not a valid image name: use lowercase letters, digits and . _ - between them (at most 128 characters)`}},
	{"wrong type debian", "name: app\nversion: \"1\"\ndebian: bookworm\narchitectures: [amd64]\npackages: [hello]\n",
		[]string{`x.yaml:3:9: debian: expected a mapping with keys release, components, found "bookworm"`}},
	{"release alias", "name: app\nversion: \"1\"\ndebian: {release: stable}\narchitectures: [amd64]\npackages: [hello]\n",
		[]string{`x.yaml:3:19: debian.release: "stable" is an alias that moves from release to release; name the codename (e.g. bookworm or trixie) so the stream never changes release on its own`}},
	{"release sid", "name: app\nversion: \"1\"\ndebian: {release: sid}\narchitectures: [amd64]\npackages: [hello]\n",
		[]string{`x.yaml:3:19: debian.release: "sid" is an alias that moves from release to release; name the codename (e.g. bookworm or trixie) so the stream never changes release on its own`}},
	{"release suite", "name: app\nversion: \"1\"\ndebian: {release: bookworm-security}\narchitectures: [amd64]\npackages: [hello]\n",
		[]string{`x.yaml:3:19: debian.release: "bookworm-security" is a suite, not a release; write "bookworm" (its -updates and -security suites are implied)`}},
	{"bad component", "name: app\nversion: \"1\"\ndebian: {release: bookworm, components: [main, universe]}\narchitectures: [amd64]\npackages: [hello]\n",
		[]string{`x.yaml:3:48: debian.components[1]: unknown component "universe" (valid: main, contrib, non-free, non-free-firmware)`}},
	{"bad arch", "name: app\nversion: \"1\"\ndebian: {release: bookworm}\narchitectures: [amd64, aarch64]\npackages: [hello]\n",
		[]string{`x.yaml:4:24: architectures[1]: unknown Debian architecture "aarch64" (valid: amd64, arm64, armel, armhf, i386, loong64, mips64el, ppc64el, riscv64, s390x); Debian calls it "arm64"`}},
	{"duplicate arch", "name: app\nversion: \"1\"\ndebian: {release: bookworm}\narchitectures: [amd64, arm64, amd64]\npackages: [hello]\n",
		[]string{`x.yaml:4:31: architectures[2]: duplicate architecture "amd64" (also architectures[0])`}},
	{"no arch", "name: app\nversion: \"1\"\ndebian: {release: bookworm}\narchitectures: []\npackages: [hello]\n",
		[]string{`x.yaml:4:16: architectures: list at least one architecture (amd64, arm64, armel, armhf, i386, loong64, mips64el, ppc64el, riscv64, s390x)`}},
	{"bad package name", base + "packages: [hello, Python3]\n",
		[]string{`x.yaml:5:19: packages[1]: "Python3" is not a Debian package name (lowercase letters, digits, + - . ; at least two characters, starting with a letter or digit)`}},
	{"bad pinned version", base + "packages: [\"hello=1:\"]\n",
		[]string{`x.yaml:5:12: packages[0]: "hello=1:": bad version: invalid Debian version "1:": nothing after colon in version number`}},
	{"duplicate package", base + "packages: [hello, hello=2.10-3]\n",
		[]string{`x.yaml:5:19: packages[1]: duplicate package "hello" (also packages[0])`}},
	{"package list of numbers", base + "packages: [hello, 42]\n",
		[]string{`x.yaml:5:19: packages[1]: expected a string, found the number 42; quote it: "42"`}},
	{"no_dependencies not a root", minimal + "no_dependencies: [tzdata]\n",
		[]string{`x.yaml:6:19: no_dependencies[0]: "tzdata" is not one of the packages; no_dependencies applies to root packages only: add it to packages`}},
	{"excluded root", minimal + "exclude: [hello]\n",
		[]string{`x.yaml:5:12: packages[0]: package "hello" is both a root package and excluded`}},
	{"bad provider", minimal + "providers: {mail-transport-agent: Exim}\n",
		[]string{`x.yaml:6:35: providers.mail-transport-agent: "Exim" is not a Debian package name (lowercase letters, digits, + - . ; at least two characters, starting with a letter or digit)`}},
	{"recommends not bool", minimal + "recommends: yes\n",
		[]string{`x.yaml:6:13: recommends: expected true or false, found "yes"`}},
	{"relative file path", minimal + "image:\n  files:\n    - {path: etc/app.conf, content: x}\n",
		[]string{`x.yaml:8:14: image.files[0].path: "etc/app.conf" must be an absolute path (starting with /)`}},
	{"file without content", minimal + "image:\n  files:\n    - {path: /etc/app.conf, mode: \"0640\"}\n",
		[]string{`x.yaml:8:7: missing required key "content" in image.files[0]`}},
	{"relative workdir", minimal + "image:\n  workdir: app\n",
		[]string{`x.yaml:7:12: image.workdir: "app" must be an absolute path (starting with /)`}},
	{"unclean writable", minimal + "image:\n  writable: [/data/]\n",
		[]string{`x.yaml:7:14: image.writable[0]: "/data/" is not a clean path; write "/data"`}},
	{"bad env name", minimal + "image:\n  env: {MY-VAR: x}\n",
		[]string{`x.yaml:7:9: image.env.MY-VAR: "MY-VAR" is not a valid environment variable name (letters, digits, _; not starting with a digit)`}},
	{"env value number", minimal + "image:\n  env: {PORT: 8080}\n",
		[]string{`x.yaml:7:15: image.env.PORT: expected a string, found the number 8080; quote it: "8080"`}},
	{"bad annotation", minimal + "image:\n  annotations: {Title: x}\n",
		[]string{`x.yaml:7:17: image.annotations.Title: "Title" is not an annotation key in reverse-domain notation (e.g. org.opencontainers.image.source)`}},
	{"bad port", minimal + "image:\n  ports: [\"8080\"]\n",
		[]string{`x.yaml:7:11: image.ports[0]: "8080": write a port and protocol, e.g. "8080/tcp" or "53/udp"`}},
	{"root without allow_root", minimal + "image:\n  user: \"0:0\"\n",
		[]string{`x.yaml:7:9: image.user: "0:0" runs as root; set hardening.allow_root: true to allow it`}},
	{"unknown user", minimal + "image:\n  user: postgres\n",
		[]string{`x.yaml:7:9: image.user: unknown user "postgres": use nonroot, "uid:gid", a base-passwd user or one declared in image.accounts`}},
	{"account login shell", minimal + "image:\n  accounts:\n    - {name: svc, uid: 1000, gid: 1000, home: /srv, shell: /bin/sh}\n",
		[]string{`x.yaml:8:60: image.accounts[0].shell: "/bin/sh": accounts cannot log in; leave shell out or use one of /usr/sbin/nologin, /sbin/nologin, /bin/false, /usr/bin/false`}},
	{"account missing home and uid range", minimal + "image:\n  accounts:\n    - {name: svc, uid: 0, gid: 1000}\n",
		[]string{
			`x.yaml:8:7: missing required key "home" in image.accounts[0]`,
			`x.yaml:8:24: image.accounts[0].uid: 0 is out of range: use 100-65533 except 65532 (0-99 and 65534 belong to base-passwd, 65532 to nonroot)`}},
	{"account reserved name", minimal + "image:\n  accounts:\n    - {name: nobody, uid: 1000, gid: 1000, home: /}\n",
		[]string{`x.yaml:8:14: image.accounts[0].name: "nobody" already exists in every image (base-passwd or nonroot); choose another name`}},
	{"uid as string", minimal + "image:\n  accounts:\n    - {name: svc, uid: \"1000\", gid: 1000, home: /srv}\n",
		[]string{`x.yaml:8:24: image.accounts[0].uid: expected an integer, found "1000"`}},
	{"relative remove glob", minimal + "remove: [usr/share/doc/*]\n",
		[]string{`x.yaml:6:10: remove[0]: "usr/share/doc/*" must be an absolute path (starting with /)`}},
	{"bad glob", minimal + "keep: [\"/usr/share/[a\"]\n",
		[]string{`x.yaml:6:8: keep[0]: "/usr/share/[a" is not a valid glob: syntax error in pattern`}},
	{"hardening unknown", minimal + "hardening: {allow_suid: true}\n",
		[]string{`x.yaml:6:13: unknown key "allow_suid" in hardening (valid keys: allow_root, allow_setuid, allow_package_manager); did you mean "allow_setuid"?`}},
	{"test with two kinds", minimal + "tests:\n  - name: t\n    path: {path: /etc/passwd}\n    command: {args: [x]}\n",
		[]string{`x.yaml:9:5: tests[0]: a test must have exactly one of path, config, command, service; found path and command`}},
	{"test with no kind", minimal + "tests:\n  - name: t\n",
		[]string{`x.yaml:7:5: tests[0]: a test must have exactly one of path, config, command, service; found none`}},
	{"test missing name", minimal + "tests:\n  - path: {path: /etc/passwd}\n",
		[]string{`x.yaml:7:5: missing required key "name" in tests[0]`}},
	{"duplicate test name", minimal + "tests:\n  - {name: t, path: {path: /a}}\n  - {name: t, path: {path: /b}}\n",
		[]string{`x.yaml:8:12: tests[1].name: duplicate test name "t" (also tests[0])`}},
	{"mode unquoted", minimal + "tests:\n  - name: t\n    path: {path: /a, mode: 0755}\n",
		[]string{`x.yaml:8:28: tests[0].path.mode: expected a string, found the number 0755; quote it: "0755"`}},
	{"bad mode and owner", minimal + "tests:\n  - name: t\n    path: {path: /a, mode: \"rwx\", owner: root}\n",
		[]string{
			`x.yaml:8:28: tests[0].path.mode: "rwx" is not an octal mode like "0755"`,
			`x.yaml:8:42: tests[0].path.owner: "root": write numeric "uid:gid", e.g. "0:0"`}},
	{"match with both", minimal + "tests:\n  - name: t\n    command: {args: [x], stdout: {contains: a, regex: b}}\n",
		[]string{`x.yaml:8:34: tests[0].command.stdout: must have exactly one of contains, regex`}},
	{"bad regex", minimal + "tests:\n  - name: t\n    command: {args: [x], stderr: {regex: \"(\"}}\n",
		[]string{"x.yaml:8:42: tests[0].command.stderr.regex: bad regular expression: error parsing regexp: missing closing ): `(`"}},
	{"exit out of range", minimal + "tests:\n  - name: t\n    command: {args: [x], exit: 256}\n",
		[]string{`x.yaml:8:32: tests[0].command.exit: 256: an exit status is 0-255`}},
	{"service probe both", minimal + "tests:\n  - name: t\n    service: {port: 80, probe: {args: [x], http: {path: /}}}\n",
		[]string{`x.yaml:8:32: tests[0].service.probe: must have exactly one of args, http`}},
	{"service bad port and timeout", minimal + "tests:\n  - name: t\n    service: {port: 0, probe: {http: {path: health}}, timeout: soon}\n",
		[]string{
			`x.yaml:8:21: tests[0].service.port: 0: a port is 1-65535`,
			`x.yaml:8:45: tests[0].service.probe.http.path: "health" must start with /`,
			`x.yaml:8:64: tests[0].service.timeout: "soon" is not a duration; write e.g. "30s" or "2m"`}},
	{"service missing probe", minimal + "tests:\n  - name: t\n    service: {port: 80}\n",
		[]string{`x.yaml:8:14: missing required key "probe" in tests[0].service`}},
	{"tests not a list", minimal + "tests: {name: t}\n",
		[]string{`x.yaml:6:8: tests: expected a list, found a mapping`}},
}

func TestDefinitionErrors(t *testing.T) {
	tests := definitionErrorCases
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDefinition("x.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error; want:\n%s", strings.Join(tt.want, "\n"))
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestErrorsSortedAndCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString(base + "packages:\n")
	for i := 0; i < 30; i++ {
		b.WriteString("  - Bad\n")
	}
	_, err := ParseDefinition("x.yaml", []byte(b.String()))
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != MaxErrors+1 || lines[MaxErrors] != "... and 10 more problems" {
		t.Fatalf("got %d lines, last %q", len(lines), lines[len(lines)-1])
	}
	if !strings.HasPrefix(lines[0], "x.yaml:6:5: packages[0]:") || !strings.HasPrefix(lines[1], "x.yaml:7:5: packages[1]:") {
		t.Errorf("not sorted by position:\n%s", err)
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 30 || list[3].Line != 9 || list[3].Path != "packages[3]" {
		t.Errorf("ErrorList not usable: %#v", err)
	}
}

func TestValidateWithoutFile(t *testing.T) {
	def := &Definition{
		Name: "app", Version: "1",
		Debian:        Debian{Release: "trixie"},
		Architectures: []string{"amd64"},
		Packages:      []Package{{Name: "hello"}},
	}
	if err := def.Validate(); err != nil {
		t.Fatalf("minimal Go definition: %v", err)
	}
	def.Architectures = append(def.Architectures, "sparc")
	def.Tests = []Test{{Name: "t"}}
	want := `architectures[1]: unknown Debian architecture "sparc" (valid: amd64, arm64, armel, armhf, i386, loong64, mips64el, ppc64el, riscv64, s390x)
tests[0]: a test must have exactly one of path, config, command, service`
	if err := def.Validate(); err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

func TestValidateAfterChange(t *testing.T) {
	def, err := ParseDefinition("x.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	def.Debian.Release = "testing"
	err = def.Validate()
	if err == nil || !strings.HasPrefix(err.Error(), `x.yaml:3:19: debian.release: "testing" is an alias`) {
		t.Errorf("got %v", err)
	}
}

func TestLoadDefinitionMissingFile(t *testing.T) {
	_, err := LoadDefinition(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v", err)
	}
}

func TestAliasesAndDefaults(t *testing.T) {
	src := base + "packages: &p [hello]\nexclude: [hello-doc]\nimage:\n  accounts:\n    - {name: svc, uid: 1000, gid: 1000, home: /srv}\n  user: svc\nhardening: {allow_setuid: true}\ntests:\n  - name: h\n    service: {port: 80, probe: {http: {path: /}}}\n"
	def, err := ParseDefinition("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	h := def.Tests[0].Service
	if h.Timeout != DefaultServiceTimeout || h.Probe.HTTP.Status != 200 {
		t.Errorf("defaults not applied: %+v %+v", h, h.Probe.HTTP)
	}
	if !def.Hardening.AllowSetuid || def.Hardening.AllowRoot {
		t.Errorf("hardening = %+v", def.Hardening)
	}
}
