package spec

import (
	"slices"
	"strings"
	"testing"
)

const withVariant = `name: python
version: "3.11-bookworm"
debian: {release: bookworm}
architectures: [amd64]
packages: [python3.11, ca-certificates]
image:
  entrypoint: [/usr/bin/python3.11]
  annotations: {org.opencontainers.image.description: "no shell"}
tests:
  - name: version
    command: {args: [-V], stdout: {contains: "3.11"}}
  - name: uid
    command: {args: [-c, "import os; print(os.getuid())"], stdout: {contains: "65532"}}
  - name: no shell
    path: {path: /bin/sh, exists: false}
  - name: no dpkg
    path: {path: /usr/bin/dpkg, exists: false}
  - name: user
    config: {user: "65532:65532"}
  - name: entrypoint and user
    config: {user: "65532:65532", entrypoint: [/usr/bin/python3.11]}
variants:
  dev:
    packages: [build-essential, python3.11-dev]
    shell: true
    package_manager: true
    user: root
    annotations: {org.opencontainers.image.description: "with a shell"}
    skip_tests: [uid]
    tests:
      - name: compiler
        command: {args: [-c, "import sysconfig; print(sysconfig.get_config_var('CC'))"], stdout: {contains: gcc}}
  slim:
    packages: [tzdata]
`

func TestVariantParseAndDerive(t *testing.T) {
	def, err := ParseDefinition("defs/python.yaml", []byte(withVariant))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(def.VariantNames(), ","); got != "dev,slim" {
		t.Fatalf("variants: %s", got)
	}
	dev, err := def.ForVariant("dev")
	if err != nil {
		t.Fatal(err)
	}
	if dev.Version != "3.11-bookworm-dev" || dev.Variant != "dev" || dev.Variants != nil {
		t.Errorf("version %q variant %q variants %v", dev.Version, dev.Variant, dev.Variants)
	}
	var pkgs []string
	for _, p := range dev.Packages {
		pkgs = append(pkgs, p.String())
	}
	if got := strings.Join(pkgs, " "); got != "python3.11 ca-certificates build-essential python3.11-dev apt" {
		t.Errorf("packages: %s", got)
	}
	if !dev.Shell || !dev.Hardening.AllowPackageManager || !dev.Hardening.AllowRoot || dev.Image.User != "root" {
		t.Errorf("relaxations: shell %v pm %v root %v user %q", dev.Shell, dev.Hardening.AllowPackageManager, dev.Hardening.AllowRoot, dev.Image.User)
	}
	if dev.Image.Annotations["org.opencontainers.image.description"] != "with a shell" || dev.Image.Annotations[AnnotationVariant] != "dev" {
		t.Errorf("annotations: %v", dev.Image.Annotations)
	}
	// The runtime is untouched.
	if def.Image.Annotations["org.opencontainers.image.description"] != "no shell" || len(def.Packages) != 2 || def.Shell {
		t.Errorf("runtime changed: %+v", def)
	}
	var names []string
	for _, tt := range dev.Tests {
		names = append(names, tt.Name)
	}
	// uid skipped by name; no shell and no dpkg are what dev relaxes; the
	// user-only config test goes, the other keeps its entrypoint.
	if got := strings.Join(names, ","); got != "version,entrypoint and user,compiler" {
		t.Errorf("tests: %s", got)
	}
	if c := dev.Tests[1].Config; c.User != "" || len(c.Entrypoint) != 1 {
		t.Errorf("config test: %+v", c)
	}
	if def.Tests[5].Config.User != "65532:65532" {
		t.Errorf("runtime's config test changed")
	}
	if dev.LockPath() != "defs/python.dev.lock.yaml" || def.LockPath() != "defs/python.lock.yaml" {
		t.Errorf("lock paths %s %s", dev.LockPath(), def.LockPath())
	}
	if dev.LockDefinition() != def.LockDefinition() {
		t.Errorf("a variant's lock records the same definition file")
	}
	if err := dev.Validate(); err != nil {
		t.Errorf("derived definition invalid: %v", err)
	}
	slim, _ := def.ForVariant("slim")
	if slim.Shell || slim.Image.User != "nonroot" || len(slim.Tests) != len(def.Tests) {
		t.Errorf("slim: %+v", slim)
	}
	if _, err := def.ForVariant("debug"); err == nil || err.Error() != `defs/python.yaml: no variant "debug" (variants: dev, slim)` {
		t.Errorf("unknown variant: %v", err)
	}
	if !IsDefinitionFile("python.yaml") || IsDefinitionFile("python.dev.lock.yaml") {
		t.Errorf("a variant lock is not a definition")
	}
}

var variantErrorCases = []struct {
	name   string
	yaml   string
	want   []string
	goOnly bool
}{
	{"variants not a mapping", minimal + "variants: [dev]\n",
		[]string{`x.yaml:6:11: variants: expected a mapping of variant names to variants (e.g. dev: {packages: [...]}), found a list`}, false},
	{"bad variant name", minimal + "variants:\n  Dev: {shell: true}\n",
		[]string{`x.yaml:7:3: variants.Dev: "Dev" is not a variant name: lowercase letters and digits, starting with a letter, at most 20 (it ends the tag, e.g. app:1-dev)`}, false},
	{"unknown variant key", minimal + "variants:\n  dev: {shell: true, packagemanager: true}\n",
		[]string{`x.yaml:7:22: unknown key "packagemanager" in variants.dev (valid keys: packages, shell, package_manager, user, annotations, skip_tests, tests); did you mean "package_manager"?`}, false},
	{"variant repeats a runtime package", minimal + "variants:\n  dev:\n    packages: [gcc, hello]\n",
		[]string{`x.yaml:8:21: variants.dev.packages[1]: "hello" is already one of the runtime's packages; a variant lists only what it adds`}, true},
	{"variant adds nothing", minimal + "variants:\n  dev: {}\n",
		[]string{`x.yaml:7:3: variants.dev: the variant adds nothing to the runtime: list packages, or set shell, package_manager or user`}, true},
	{"variant unknown user", minimal + "variants:\n  dev: {user: builder}\n",
		[]string{`x.yaml:7:15: variants.dev.user: unknown user "builder": use root, nonroot, "uid:gid", a base-passwd user or one declared in image.accounts`}, true},
	{"variant skips an unknown test", minimal + "variants:\n  dev: {shell: true, skip_tests: [nope]}\n",
		[]string{`x.yaml:7:35: variants.dev.skip_tests[0]: "nope" is not one of the runtime's tests`}, true},
	{"variant test error", minimal + "variants:\n  dev:\n    shell: true\n    tests:\n      - name: t\n        command: {args: [x], exit: 300}\n",
		[]string{`x.yaml:11:36: variants.dev.tests[0].command.exit: 300: an exit status is 0-255`}, false},
	{"variant test unknown key", minimal + "variants:\n  dev:\n    shell: true\n    tests:\n      - name: t\n        command: {args: [x], exitcode: 1}\n",
		[]string{`x.yaml:11:30: unknown key "exitcode" in variants.dev.tests[0].command (valid keys: args, exit, stdout, stderr); did you mean "exit"?`}, false},
	{"variant test name clash", minimal + "tests:\n  - name: t\n    path: {path: /etc/passwd}\nvariants:\n  dev:\n    shell: true\n    tests:\n      - name: t\n        path: {path: /bin/sh}\n",
		[]string{`x.yaml:13:15: variants.dev.tests[0].name: duplicate test name "t" (also in tests); name it differently or skip the runtime's with skip_tests`}, true},
}

func TestVariantErrors(t *testing.T) {
	s := compileSchema(t)
	for _, tt := range variantErrorCases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDefinition("x.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error; want:\n%s", strings.Join(tt.want, "\n"))
			}
			if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
			v, err := yamlToJSON([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			switch err := s.Validate(v); {
			case tt.goOnly && err != nil:
				t.Errorf("the schema rejects it now; mark it goOnly false")
			case !tt.goOnly && err == nil:
				t.Errorf("the loader rejects it, the schema accepts it")
			}
		})
	}
}

func TestSchemaAcceptsVariant(t *testing.T) {
	v, err := yamlToJSON([]byte(withVariant))
	if err != nil {
		t.Fatal(err)
	}
	if err := compileSchema(t).Validate(v); err != nil {
		t.Errorf("schema rejects a valid variant: %v", err)
	}
}
