package hardening

import (
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

func TestShells(t *testing.T) {
	want := "/bin/sh /usr/bin/sh /bin/bash /usr/bin/bash /bin/dash /usr/bin/dash /bin/rbash /usr/bin/rbash"
	if got := strings.Join(Shells(), " "); got != want {
		t.Errorf("Shells: %s", got)
	}
	if got := strings.Join(ShellFiles(), " "); got != "usr/bin/sh usr/bin/bash usr/bin/dash usr/bin/rbash" {
		t.Errorf("ShellFiles: %s", got)
	}
	// Every file pruning removes is a shell a check looks for.
	for _, f := range ShellFiles() {
		if !IsShell("/" + f) {
			t.Errorf("%s is pruned but not a shell", f)
		}
	}
	for p, want := range map[string]bool{
		"/bin/bash": true, "/usr/bin/rbash": true, "/bin/rbash": true, "/usr/sbin/nologin": false,
		"/bin/false": false, "/bin/sync": false, "usr/bin/sh": false, "/usr/bin/zsh": false,
	} {
		if IsShell(p) != want {
			t.Errorf("IsShell(%q) = %v", p, !want)
		}
	}
}

func TestPackageManagerPaths(t *testing.T) {
	for _, p := range []string{"usr/bin/dpkg*", "usr/bin/apt*", "var/lib/apt", "etc/apt"} {
		if !slices.Contains(PackageManagerPaths, p) {
			t.Errorf("%s is not removed", p)
		}
	}
	for _, p := range PackageManagerPaths {
		if strings.HasPrefix(p, "/") {
			t.Errorf("%s: image paths have no leading slash", p)
		}
	}
}

func TestModes(t *testing.T) {
	for _, c := range []struct {
		e                rootfs.Entry
		setuid, writable bool
	}{
		{rootfs.Entry{Path: "usr/bin/su", Kind: rootfs.File, Mode: 0o755 | fs.ModeSetuid}, true, false},
		{rootfs.Entry{Path: "usr/bin/wall", Kind: rootfs.File, Mode: 0o755 | fs.ModeSetgid}, true, false},
		{rootfs.Entry{Path: "var/mail", Kind: rootfs.Dir, Mode: 0o775 | fs.ModeSetgid}, false, false},
		{rootfs.Entry{Path: "usr/bin/ls", Kind: rootfs.File, Mode: 0o755}, false, false},
		{rootfs.Entry{Path: "tmp", Kind: rootfs.Dir, Mode: 0o777 | fs.ModeSticky}, false, false},
		{rootfs.Entry{Path: "var/tmp", Kind: rootfs.Dir, Mode: 0o777 | fs.ModeSticky}, false, true},
		{rootfs.Entry{Path: "srv/data", Kind: rootfs.File, Mode: 0o666}, false, true},
		{rootfs.Entry{Path: "srv/ro", Kind: rootfs.File, Mode: 0o664}, false, false},
	} {
		if got := Setuid(&c.e); got != c.setuid {
			t.Errorf("Setuid(%s %v) = %v", c.e.Path, c.e.Mode, got)
		}
		if got := WorldWritable(&c.e); got != c.writable {
			t.Errorf("WorldWritable(%s %v) = %v", c.e.Path, c.e.Mode, got)
		}
	}
	if !Root(0) || Root(65532) {
		t.Errorf("Root")
	}
}

func TestRelaxations(t *testing.T) {
	d := &spec.Definition{}
	if got := Relaxed(d); got != nil {
		t.Errorf("nothing relaxed: %q", got)
	}
	for _, r := range Relaxations {
		if r.In(d) {
			t.Errorf("%s relaxed by default", r.Name)
		}
	}
	d.Shell = true
	d.Hardening = spec.Hardening{AllowRoot: true, AllowSetuid: true}
	if got := strings.Join(Relaxed(d), ","); got != "shell,setuid,root" {
		t.Errorf("Relaxed: %s", got)
	}
	d.Hardening.AllowPackageManager = true
	if got := strings.Join(Relaxed(d), ","); got != "shell,package-manager,setuid,root" {
		t.Errorf("Relaxed: %s", got)
	}
	for r, setting := range map[*Relaxation]string{
		&RelaxShell: "shell: true", &RelaxPackageManager: "hardening.allow_package_manager",
		&RelaxSetuid: "hardening.allow_setuid", &RelaxRoot: "hardening.allow_root",
	} {
		if r.Setting != setting || !r.In(d) {
			t.Errorf("%s: setting %q, in %v", r.Name, r.Setting, r.In(d))
		}
	}
}
