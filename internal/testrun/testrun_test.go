package testrun

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io/fs"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

// testImage builds a small image with the real layer and config writers.
func testImage(t *testing.T, user string, extra ...*rootfs.Entry) v1.Image {
	t.Helper()
	f := rootfs.New()
	for _, e := range append([]*rootfs.Entry{
		{Path: "usr/bin", Kind: rootfs.Dir, Mode: 0o755},
		{Path: "bin", Kind: rootfs.Symlink, Mode: 0o777, Target: "usr/bin"},
		{Path: "usr/bin/python3", Kind: rootfs.File, Mode: 0o755, Data: []byte("#!")},
		{Path: "usr/bin/python", Kind: rootfs.Symlink, Mode: 0o777, Target: "python3"},
		{Path: "etc/ssl/certs/ca-certificates.crt", Kind: rootfs.File, Mode: 0o644, Data: []byte("pem")},
		{Path: "var/lib/data", Kind: rootfs.Dir, Mode: 0o700, UID: 999, GID: 999},
		{Path: "tmp", Kind: rootfs.Dir, Mode: 0o777 | fs.ModeSticky},
	}, extra...) {
		if err := f.Put(e); err != nil {
			t.Fatal(err)
		}
	}
	layer, err := oci.Layer(f, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	img, err := oci.Image(layer, oci.ImageConfig{Architecture: HostArch(), User: user, Env: []string{"PATH=/usr/bin", "LANG=C.UTF-8"}, Entrypoint: []string{"/usr/bin/python3"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func def(t *testing.T, body string) *spec.Definition {
	t.Helper()
	d, err := spec.ParseDefinition("x.yaml", []byte("name: x\nversion: \"1\"\ndebian: {release: bookworm}\narchitectures: [amd64]\npackages: [python3]\n"+body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func byName(r *Report) map[string]Outcome {
	m := map[string]Outcome{}
	for _, o := range r.Tests {
		m[o.Name] = o
	}
	return m
}

func TestStructure(t *testing.T) {
	d := def(t, `tests:
  - {name: ca, path: {path: /etc/ssl/certs/ca-certificates.crt, mode: "0644", owner: "0:0"}}
  - {name: through links, path: {path: /bin/python, mode: "0755"}}
  - {name: no shell, path: {path: /bin/sh, exists: false}}
  - {name: data, path: {path: /var/lib/data, mode: "0700", owner: "999:999"}}
  - {name: wrong mode, path: {path: /var/lib/data, mode: "0755", owner: "0:0"}}
  - {name: missing, path: {path: /usr/bin/ruby}}
  - {name: present, path: {path: /usr/bin/python3, exists: false}}
  - {name: user, config: {user: nonroot, entrypoint: [/usr/bin/python3], env: {LANG: C.UTF-8}}}
  - {name: wrong config, config: {user: "0:0", env: {LANG: C, TZ: UTC}}}
  - {name: cmd, command: {args: [-V]}}
`)
	rep := Run(context.Background(), Target{Def: d, Image: testImage(t, "65532:65532")}, Options{})
	got := byName(rep)
	want := map[string]Status{
		"ca": Pass, "through links": Pass, "no shell": Pass, "data": Pass, "wrong mode": Fail, "missing": Fail,
		"present": Fail, "user": Pass, "wrong config": Fail, "cmd": Skip,
		"hardening: no setuid or setgid files": Pass, "hardening: no shell": Pass, "hardening: not root": Pass,
		"hardening: nothing world-writable but /tmp": Pass,
	}
	for name, st := range want {
		if got[name].Status != st {
			t.Errorf("%s: %s, want %s (%+v)", name, got[name].Status, st, got[name])
		}
	}
	if o := got["wrong mode"]; o.Expected != "/var/lib/data: mode 0755, owner 0:0" || o.Actual != "/var/lib/data: mode 0700, owner 999:999" {
		t.Errorf("wrong mode: expected %q actual %q", o.Expected, o.Actual)
	}
	if o := got["wrong config"]; !strings.Contains(o.Actual, `user "65532:65532"`) || !strings.Contains(o.Actual, "LANG=C.UTF-8") || !strings.Contains(o.Actual, "TZ unset") {
		t.Errorf("wrong config: actual %q", o.Actual)
	}
	if rep.Failed() != 4 {
		t.Errorf("%d failed, want 4", rep.Failed())
	}
}

func TestHardening(t *testing.T) {
	img := testImage(t, "0:0",
		&rootfs.Entry{Path: "usr/bin/su", Kind: rootfs.File, Mode: 0o755 | fs.ModeSetuid},
		&rootfs.Entry{Path: "usr/bin/dash", Kind: rootfs.File, Mode: 0o755},
		&rootfs.Entry{Path: "usr/bin/sh", Kind: rootfs.Symlink, Mode: 0o777, Target: "dash"},
		&rootfs.Entry{Path: "srv", Kind: rootfs.Dir, Mode: 0o777},
	)
	got := byName(Run(context.Background(), Target{Def: def(t, ""), Image: img}, Options{}))
	for _, n := range []string{"hardening: no setuid or setgid files", "hardening: no shell", "hardening: not root", "hardening: nothing world-writable but /tmp"} {
		if got[n].Status != Fail {
			t.Errorf("%s: %s, want fail", n, got[n].Status)
		}
	}
	if a := got["hardening: no setuid or setgid files"].Actual; !strings.Contains(a, "/usr/bin/su (mode 4755") {
		t.Errorf("setuid actual %q", a)
	}
	if a := got["hardening: no shell"].Actual; !strings.Contains(a, "/bin/sh") || !strings.Contains(a, "/usr/bin/dash") {
		t.Errorf("shell actual %q", a)
	}
	// Relaxed in the definition: skipped, not failed.
	relaxed := def(t, "shell: true\nhardening: {allow_setuid: true, allow_root: true}\nimage: {user: root}\n")
	got = byName(Run(context.Background(), Target{Def: relaxed, Image: img}, Options{}))
	for _, n := range []string{"hardening: no setuid or setgid files", "hardening: no shell", "hardening: not root"} {
		if got[n].Status != Skip {
			t.Errorf("%s: %s, want skip", n, got[n].Status)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		m    spec.Match
		s    string
		want bool
	}{
		{spec.Match{Contains: "3.11"}, "Python 3.11.2\n", true},
		{spec.Match{Contains: "3.12"}, "Python 3.11.2\n", false},
		{spec.Match{Regex: `^3\.11\.`}, "3.11.2 (main)\n", true},
		{spec.Match{Regex: `^3\.11\.`}, "warning\n3.11.2\n", true}, // multi-line: ^ is a line start
		{spec.Match{Regex: `^3\.11\.`}, "Python 3.11.2", false},
	} {
		if got := matches(&c.m, c.s); got != c.want {
			t.Errorf("%+v on %q: %v", c.m, c.s, got)
		}
	}
}

func TestCommandLine(t *testing.T) {
	got := CommandLine([]string{"podman", "run", "img", "-c", "print('hi')", ""})
	if got != `podman run img -c 'print('\''hi'\'')' ''` {
		t.Errorf("%s", got)
	}
}

func TestReports(t *testing.T) {
	rep := &Report{Definition: "x.yaml", Image: "x:1", Arch: "amd64", Digest: "sha256:0123456789abcdef0123", Engine: "podman", Tests: []Outcome{
		{Name: "ok", Kind: "path", Status: Pass},
		{Name: "runs", Kind: "command", Status: Fail, Command: []string{"podman run --rm x -V"}, Expected: "exit 0, stdout containing \"3.11\"", Actual: `exit 1, stdout "", stderr "boom"`},
		{Name: "later", Kind: "command", Status: Skip, Message: "no container engine"},
	}}
	var sum bytes.Buffer
	WriteSummary(&sum, []*Report{rep})
	for _, want := range []string{"FAIL  command   runs", "command:  podman run --rm x -V", `expected: exit 0, stdout containing "3.11"`, `actual:   exit 1, stdout "", stderr "boom"`, "FAIL: 1 images, 1 passed, 1 failed, 1 skipped"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, []*Report{rep}); err != nil {
		t.Fatal(err)
	}
	var back JSONReport
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Failed != 1 || back.Passed != 1 || back.Skipped != 1 || back.Images[0].Tests[1].Expected == "" {
		t.Errorf("json: %v %+v", err, back)
	}
	var ju bytes.Buffer
	if err := WriteJUnit(&ju, []*Report{rep}); err != nil {
		t.Fatal(err)
	}
	var suites junitSuites
	if err := xml.Unmarshal(ju.Bytes(), &suites); err != nil {
		t.Fatal(err)
	}
	if suites.Tests != 3 || suites.Failures != 1 || suites.Skipped != 1 || suites.Suites[0].Name != "x:1/amd64" ||
		suites.Suites[0].Cases[1].Failure == nil || !strings.Contains(suites.Suites[0].Cases[1].Failure.Text, "actual:") {
		t.Errorf("junit:\n%s", ju.String())
	}
}

func TestFindEngine(t *testing.T) {
	if _, err := FindEngine("rkt"); err == nil || !strings.Contains(err.Error(), "unknown container engine") {
		t.Errorf("rkt: %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := FindEngine(""); err == nil || !strings.Contains(err.Error(), "no container engine found") {
		t.Errorf("empty PATH: %v", err)
	}
}
