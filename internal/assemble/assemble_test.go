package assemble

import (
	"archive/tar"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

// pk describes a test package.
type pk struct {
	name, version, arch string
	extra               string // more control fields
	files               []debtest.File
	scripts             map[string]string
}

func mkdeb(t testing.TB, p pk) Deb {
	t.Helper()
	if p.version == "" {
		p.version = "1.0-1"
	}
	if p.arch == "" {
		p.arch = "amd64"
	}
	ctrl := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: T <t@example.org>\n%sDescription: %s\n",
		p.name, p.version, p.arch, p.extra, p.name)
	data := debtest.Build(t, debtest.Spec{Control: ctrl, Files: p.files, AutoDirs: true, Scripts: p.scripts, Compression: "gz"})
	return Deb{Package: spec.LockedPackage{Name: p.name, Version: p.version, Architecture: p.arch}, Data: data}
}

func def() *spec.Definition {
	return &spec.Definition{Name: "t", Debian: spec.Debian{Release: "bookworm"}, Image: spec.Image{User: "nonroot"}}
}

func assemble(t *testing.T, d *spec.Definition, pkgs ...pk) (*rootfs.FS, *Report) {
	t.Helper()
	var debs []Deb
	for _, p := range pkgs {
		debs = append(debs, mkdeb(t, p))
	}
	if d == nil {
		d = def()
	}
	tree, rep, err := Assemble(Input{Def: d, Arch: "amd64", Debs: debs, Release: "bookworm"})
	if err != nil {
		t.Fatal(err)
	}
	return tree, rep
}

func assembleErr(t *testing.T, d *spec.Definition, pkgs ...pk) error {
	t.Helper()
	var debs []Deb
	for _, p := range pkgs {
		debs = append(debs, mkdeb(t, p))
	}
	if d == nil {
		d = def()
	}
	_, _, err := Assemble(Input{Def: d, Arch: "amd64", Debs: debs, Release: "bookworm"})
	if err == nil {
		t.Fatal("Assemble succeeded, want an error")
	}
	return err
}

func get(t *testing.T, tree *rootfs.FS, p string) *rootfs.Entry {
	t.Helper()
	e, ok := tree.Get(p)
	if !ok {
		t.Fatalf("/%s is missing", p)
	}
	return e
}

func absent(t *testing.T, tree *rootfs.FS, p string) {
	t.Helper()
	if e, ok := tree.Get(p); ok {
		t.Errorf("/%s exists (%s from %q), want it absent", p, e.Kind, e.Package)
	}
}

func file(p, data string) debtest.File { return debtest.File{Path: p, Data: []byte(data)} }

func symlink(p, target string) debtest.File {
	return debtest.File{Path: p, Type: tar.TypeSymlink, Link: target}
}

func TestUnpackMergedUsr(t *testing.T) {
	tree, rep := assemble(t, nil,
		pk{name: "libc6", files: []debtest.File{
			file("./lib/x86_64-linux-gnu/libc.so.6", "libc"),
			symlink("./lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
			file("./lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "ld"),
		}},
		pk{name: "tool", files: []debtest.File{
			{Path: "./bin/tool", Data: []byte("tool"), Mode: 0o750, UID: 3, GID: 4},
			{Path: "./usr/sbin/", Type: tar.TypeDir, Mode: 0o700},
			file("./sbin/toold", "d"),
			{Path: "./usr/bin/hl", Type: tar.TypeLink, Link: "./bin/tool"},
			symlink("./etc/alt", "../usr/share"),
			file("./etc/alt/data/x", "x"),
		}},
	)
	if rep.Packages != 2 {
		t.Errorf("Packages = %d", rep.Packages)
	}
	for _, l := range []string{"bin", "sbin", "lib", "lib64"} {
		e := get(t, tree, l)
		if e.Kind != rootfs.Symlink || e.Target != "usr/"+l {
			t.Errorf("/%s = %s -> %q, want a link to usr/%s", l, e.Kind, e.Target, l)
		}
	}
	absent(t, tree, "lib32")
	e := get(t, tree, "usr/bin/tool")
	if e.Mode != 0o750 || e.UID != 3 || e.GID != 4 || string(e.Data) != "tool" || e.Package != "tool" {
		t.Errorf("usr/bin/tool = %+v", e)
	}
	get(t, tree, "usr/lib/x86_64-linux-gnu/libc.so.6")
	get(t, tree, "usr/lib64/ld-linux-x86-64.so.2")
	get(t, tree, "usr/sbin/toold")
	if e := get(t, tree, "usr/sbin"); e.Mode != 0o700 {
		t.Errorf("usr/sbin mode %v: the package's directory mode should win over temper's placeholder", e.Mode)
	}
	if e := get(t, tree, "usr/bin/hl"); e.Kind != rootfs.Hardlink || e.Target != "usr/bin/tool" {
		t.Errorf("hardlink = %+v", e)
	}
	get(t, tree, "usr/share/data/x") // through the package's own directory link
	if r, _ := tree.Resolve("lib64/ld-linux-x86-64.so.2", true); r != "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" {
		t.Errorf("interpreter resolves to %q", r)
	}
}

func TestTrixieBaseFilesLinks(t *testing.T) {
	tree, _ := assemble(t, nil,
		pk{name: "base-files", files: []debtest.File{
			symlink("./bin", "usr/bin"), symlink("./lib", "usr/lib"), symlink("./lib64", "usr/lib64"),
			symlink("./sbin", "usr/sbin"), {Path: "./usr/lib64/", Type: tar.TypeDir},
			file("./usr/lib/os-release", "ID=debian\n"), symlink("./etc/os-release", "../usr/lib/os-release"),
		}},
		pk{name: "bash", files: []debtest.File{{Path: "./bin/bash", Data: []byte("sh"), Mode: 0o755}}},
	)
	if e := get(t, tree, "bin"); e.Kind != rootfs.Symlink || e.Package != "base-files" {
		t.Errorf("bin = %+v", e)
	}
	get(t, tree, "lib64")
	if err := assembleErr(t, nil, pk{name: "odd", files: []debtest.File{file("./bin", "x")}}); !strings.Contains(err.Error(), "merged /usr") {
		t.Errorf("error %v", err)
	}
}

func TestEscape(t *testing.T) {
	err := assembleErr(t, nil, pk{name: "evil", files: []debtest.File{
		{Path: "./usr/bin/x", Type: tar.TypeLink, Link: "../../../../etc/shadow"},
	}})
	if !strings.Contains(err.Error(), "evil") || !strings.Contains(err.Error(), "escapes") {
		t.Errorf("error %v should name the package and say it escapes", err)
	}
	// A symlink pointing outside stays inside, as after chroot.
	tree, _ := assemble(t, nil, pk{name: "up", files: []debtest.File{
		symlink("./usr/up", "../../../../../"), file("./usr/up/etc/x", "x"),
	}})
	get(t, tree, "etc/x")
}

func TestConflicts(t *testing.T) {
	err := assembleErr(t, nil,
		pk{name: "a", files: []debtest.File{file("./usr/bin/x", "one")}},
		pk{name: "b", files: []debtest.File{file("./usr/bin/x", "two")}},
	)
	for _, want := range []string{"package a", "b ships", "/usr/bin/x"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	// Different kinds.
	err = assembleErr(t, nil,
		pk{name: "a", files: []debtest.File{file("./usr/bin/x", "one")}},
		pk{name: "b", files: []debtest.File{symlink("./usr/bin/x", "y")}},
	)
	if !strings.Contains(err.Error(), "/usr/bin/x") {
		t.Error(err)
	}
	// /bin/x and /usr/bin/x are the same file on merged /usr.
	err = assembleErr(t, nil,
		pk{name: "a", files: []debtest.File{file("./bin/x", "one")}},
		pk{name: "b", files: []debtest.File{file("./usr/bin/x", "two")}},
	)
	if !strings.Contains(err.Error(), "/usr/bin/x") {
		t.Error(err)
	}
	// Identical content is fine (Multi-Arch: same).
	assemble(t, nil,
		pk{name: "a", files: []debtest.File{file("./usr/share/x", "same")}},
		pk{name: "b", files: []debtest.File{file("./usr/share/x", "same")}},
	)
	// Replaces: the replacing package wins, whatever the order.
	tree, _ := assemble(t, nil,
		pk{name: "a", files: []debtest.File{file("./usr/bin/x", "one")}},
		pk{name: "b", extra: "Replaces: a (<< 2)\n", files: []debtest.File{file("./usr/bin/x", "two")}},
	)
	if e := get(t, tree, "usr/bin/x"); string(e.Data) != "two" || e.Package != "b" {
		t.Errorf("x = %q from %s", e.Data, e.Package)
	}
	tree, _ = assemble(t, nil,
		pk{name: "a", extra: "Replaces: z\n", files: []debtest.File{file("./usr/bin/x", "one")}},
		pk{name: "z", files: []debtest.File{file("./usr/bin/x", "two")}},
	)
	if e := get(t, tree, "usr/bin/x"); string(e.Data) != "one" {
		t.Errorf("x = %q", e.Data)
	}
	// A Replaces whose version does not match does not count.
	assembleErr(t, nil,
		pk{name: "a", files: []debtest.File{file("./usr/bin/x", "one")}},
		pk{name: "b", extra: "Replaces: a (<< 1.0)\n", files: []debtest.File{file("./usr/bin/x", "two")}},
	)
	// Directories merge; the first package's mode stays.
	tree, _ = assemble(t, nil,
		pk{name: "a", files: []debtest.File{{Path: "./opt/d/", Type: tar.TypeDir, Mode: 0o750}}},
		pk{name: "b", files: []debtest.File{{Path: "./opt/d/", Type: tar.TypeDir, Mode: 0o755}, file("./opt/d/f", "")}},
	)
	if e := get(t, tree, "opt/d"); e.Mode != 0o750 {
		t.Errorf("opt/d mode %v", e.Mode)
	}
}

func TestErrors(t *testing.T) {
	d := mkdeb(t, pk{name: "a"})
	d.Data = d.Data[:len(d.Data)/2]
	_, _, err := Assemble(Input{Def: def(), Arch: "amd64", Debs: []Deb{d}, Release: "bookworm"})
	if err == nil || !strings.Contains(err.Error(), "package a ") {
		t.Errorf("corrupt .deb: %v", err)
	}
	d = mkdeb(t, pk{name: "a", version: "2.0"})
	d.Package.Version = "1.0"
	_, _, err = Assemble(Input{Def: def(), Arch: "amd64", Debs: []Deb{d}, Release: "bookworm"})
	if err == nil || !strings.Contains(err.Error(), "a 1.0 (amd64)") || !strings.Contains(err.Error(), "a 2.0 (amd64)") {
		t.Errorf("mismatch: %v", err)
	}
}

const passwdMaster = "root:*:0:0:root:/root:/bin/bash\ndaemon:*:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
const groupMaster = "root:*:0:\ndaemon:*:1:\nnogroup:*:65534:\n"

func TestAccounts(t *testing.T) {
	d := def()
	d.Image.Accounts = []spec.Account{{Name: "app", UID: 1000, GID: 1001, Home: "/var/lib/app"}}
	tree, rep := assemble(t, d, pk{name: "base-passwd", files: []debtest.File{
		file("./usr/share/base-passwd/passwd.master", passwdMaster),
		file("./usr/share/base-passwd/group.master", groupMaster),
	}})
	// Without a shell in the image, root's /bin/bash becomes nologin.
	wantPasswd := strings.Replace(passwdMaster, "/root:/bin/bash", "/root:/usr/sbin/nologin", 1) + "nonroot:x:65532:65532::/home/nonroot:/usr/sbin/nologin\napp:x:1000:1001::/var/lib/app:/usr/sbin/nologin\n"
	if got := string(get(t, tree, "etc/passwd").Data); got != wantPasswd {
		t.Errorf("passwd:\n%s\nwant:\n%s", got, wantPasswd)
	}
	if got, want := string(get(t, tree, "etc/group").Data), groupMaster+"nonroot:x:65532:\napp:x:1001:\n"; got != want {
		t.Errorf("group:\n%s\nwant:\n%s", got, want)
	}
	if e := get(t, tree, "home/nonroot"); e.Kind != rootfs.Dir || e.Mode != 0o700 || e.UID != 65532 || e.GID != 65532 {
		t.Errorf("home/nonroot = %+v", e)
	}
	if e := get(t, tree, "var/lib/app"); e.UID != 1000 || e.GID != 1001 {
		t.Errorf("var/lib/app = %+v", e)
	}
	if !strings.Contains(string(get(t, tree, "etc/nsswitch.conf").Data), "hosts:          files dns") {
		t.Error("nsswitch.conf")
	}
	if len(rep.Users) != 2 || !strings.HasPrefix(rep.Users[0], "nonroot 65532:65532") {
		t.Errorf("Users = %q", rep.Users)
	}

	// Without base-passwd: a minimal root, nobody/nogroup and nonroot.
	tree, _ = assemble(t, nil)
	passwd := string(get(t, tree, "etc/passwd").Data)
	for _, want := range []string{"root:x:0:0:", "nonroot:x:65532:65532::/home/nonroot:/usr/sbin/nologin"} {
		if !strings.Contains(passwd, want) {
			t.Errorf("passwd %q lacks %q", passwd, want)
		}
	}
	if g := string(get(t, tree, "etc/group").Data); !strings.Contains(g, "nogroup:x:65534:") || !strings.Contains(g, "root:x:0:") {
		t.Errorf("group %q", g)
	}
}

func TestCABundle(t *testing.T) {
	tree, rep := assemble(t, nil, pk{name: "ca-certificates", arch: "all", files: []debtest.File{
		file("./usr/share/ca-certificates/mozilla/B.crt", "-----B-----"),
		file("./usr/share/ca-certificates/mozilla/A.crt", "-----A-----\n"),
		file("./usr/share/ca-certificates/mozilla/README", "no"),
	}})
	if got := string(get(t, tree, CABundle).Data); got != "-----A-----\n-----B-----\n" {
		t.Errorf("bundle %q", got)
	}
	if !slices.Contains(rep.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt") || rep.Env[0] != "PATH="+DefaultPath {
		t.Errorf("Env = %q", rep.Env)
	}
	tree, rep = assemble(t, nil)
	absent(t, tree, CABundle)
	if len(rep.Env) != 1 {
		t.Errorf("Env = %q", rep.Env)
	}
}

func TestBaseFiles(t *testing.T) {
	tree, _ := assemble(t, nil, pk{name: "base-files", files: []debtest.File{
		file("./usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
		symlink("./etc/os-release", "../usr/lib/os-release"),
		file("./etc/debian_version", "12.8\n"),
		{Path: "./var/tmp/", Type: tar.TypeDir, Mode: 0o1777},
		{Path: "./var/local/", Type: tar.TypeDir, Mode: 0o2775},
		file("./usr/share/base-files/nsswitch.conf", "passwd: files\n"),
	}})
	if got := string(get(t, tree, "usr/lib/os-release").Data); !strings.Contains(got, "VERSION_ID=\"12\"") {
		t.Errorf("os-release %q", got)
	}
	for p, target := range map[string]string{"var/run": "/run", "var/lock": "/run/lock", "var/tmp": "/tmp", "etc/os-release": "../usr/lib/os-release"} {
		if e := get(t, tree, p); e.Kind != rootfs.Symlink || e.Target != target {
			t.Errorf("/%s = %s %q, want a link to %s", p, e.Kind, e.Target, target)
		}
	}
	if e := get(t, tree, "tmp"); e.Mode != 0o777|fs.ModeSticky {
		t.Errorf("tmp mode %v", e.Mode)
	}
	for _, p := range []string{"run", "run/lock"} {
		if e := get(t, tree, p); e.Kind != rootfs.Dir || e.Mode != 0o755 {
			t.Errorf("/%s = %+v", p, e)
		}
	}
	if e := get(t, tree, "var/local"); e.Mode != 0o775|fs.ModeSetgid {
		t.Errorf("var/local mode %v (directory setgid stays)", e.Mode)
	}
	if got := string(get(t, tree, "etc/nsswitch.conf").Data); got != "passwd: files\n" {
		t.Errorf("nsswitch.conf %q: want base-files' default copy", got)
	}
	// Nothing world-writable but /tmp.
	tree.Walk(func(e *rootfs.Entry) error {
		if e.Kind != rootfs.Symlink && e.Mode&0o002 != 0 && e.Path != "tmp" {
			t.Errorf("/%s is world-writable (%v)", e.Path, e.Mode)
		}
		return nil
	})

	// Without base-files.
	for rel, want := range map[string]string{"bookworm": "VERSION_ID=\"12\"", "trixie": "VERSION_ID=\"13\"", "forky": "VERSION_ID=\"14\""} {
		tree, _, err := Assemble(Input{Def: def(), Arch: "amd64", Release: rel})
		if err != nil {
			t.Fatal(err)
		}
		got := string(get(t, tree, "usr/lib/os-release").Data)
		if !strings.Contains(got, want) || !strings.Contains(got, "ID=debian\n") || !strings.Contains(got, "VERSION_CODENAME="+rel) {
			t.Errorf("%s: os-release %q", rel, got)
		}
		if e := get(t, tree, "etc/os-release"); e.Target != "../usr/lib/os-release" {
			t.Errorf("etc/os-release -> %q", e.Target)
		}
		absent(t, tree, "etc/debian_version")
	}
}

func TestStatusD(t *testing.T) {
	tree, _ := assemble(t, nil, pk{name: "hello", extra: "Multi-Arch: same\nDepends: libc6\n", files: []debtest.File{file("./usr/bin/hello", "hi")}})
	st := string(get(t, tree, "var/lib/dpkg/status.d/hello").Data)
	want := "Package: hello\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: T <t@example.org>\nMulti-Arch: same\nDepends: libc6\nDescription: hello\n"
	if st != want {
		t.Errorf("status.d/hello:\n%s\nwant:\n%s", st, want)
	}
	md5 := get(t, tree, "var/lib/dpkg/status.d/hello.md5sums")
	if !strings.HasSuffix(string(md5.Data), "  usr/bin/hello\n") || md5.Mode != 0o644 || md5.UID != 0 {
		t.Errorf("md5sums %+v", md5)
	}
}

func TestHardening(t *testing.T) {
	pkgs := []pk{
		{name: "bash", files: []debtest.File{
			{Path: "./bin/bash", Data: []byte("bash"), Mode: 0o755}, symlink("./bin/rbash", "bash"),
			file("./usr/share/doc/bash/copyright", "GPL"), file("./usr/share/doc/bash/README", "r"),
			file("./usr/share/man/man1/bash.1.gz", "m"), symlink("./usr/share/doc/bash-doc", "bash"),
		}},
		{name: "dash", files: []debtest.File{{Path: "./bin/dash", Data: []byte("dash"), Mode: 0o755}, symlink("./bin/sh", "dash"),
			symlink("./usr/bin/myshell", "/bin/sh")}},
		{name: "dpkg", files: []debtest.File{file("./usr/bin/dpkg", "d"), file("./usr/bin/dpkg-query", "q"),
			file("./usr/sbin/dpkg-divert", "v"), file("./usr/sbin/start-stop-daemon", "s"), file("./etc/apt/sources.list", "")}},
		{name: "apt", files: []debtest.File{file("./usr/bin/apt-get", "a"), file("./usr/lib/apt/methods/http", "h")}},
		{name: "login", files: []debtest.File{{Path: "./usr/bin/su", Data: []byte("su"), Mode: 0o4755},
			{Path: "./usr/bin/wall", Data: []byte("w"), Mode: 0o2755}, {Path: "./usr/bin/ww", Data: []byte("w"), Mode: 0o777},
			file("./usr/share/locale/de/LC_MESSAGES/login.mo", "de"), file("./usr/share/locale/fr/LC_MESSAGES/login.mo", "fr"),
			file("./usr/share/info/login.info", "i"), file("./usr/share/lintian/overrides/login", "l"),
			file("./opt/junk/a", "a"), file("./opt/junk/keep", "k"), file("./opt/other/b", "b")}},
	}
	d := def()
	d.Keep = []string{"/usr/share/locale/de/**", "/opt/junk/keep"}
	d.Remove = []string{"/opt/junk", "/opt/oth*"}
	tree, rep := assemble(t, d, pkgs...)
	for _, p := range []string{"usr/bin/bash", "usr/bin/rbash", "usr/bin/dash", "usr/bin/sh", "usr/bin/myshell",
		"usr/bin/dpkg", "usr/bin/dpkg-query", "usr/sbin/dpkg-divert", "usr/bin/apt-get", "usr/lib/apt", "etc/apt",
		"usr/share/doc/bash/README", "usr/share/man", "usr/share/info", "usr/share/lintian",
		"usr/share/locale/fr", "opt/junk/a", "opt/other"} {
		absent(t, tree, p)
	}
	for _, p := range []string{"usr/share/doc/bash/copyright", "usr/share/doc/bash-doc", "usr/sbin/start-stop-daemon",
		"usr/share/locale/de/LC_MESSAGES/login.mo", "opt/junk/keep", "var/lib/dpkg/status.d/dpkg"} {
		get(t, tree, p)
	}
	if e := get(t, tree, "usr/bin/su"); e.Mode != 0o755 {
		t.Errorf("su mode %v", e.Mode)
	}
	if e := get(t, tree, "usr/bin/wall"); e.Mode != 0o755 {
		t.Errorf("wall mode %v", e.Mode)
	}
	if e := get(t, tree, "usr/bin/ww"); e.Mode != 0o775 {
		t.Errorf("ww mode %v", e.Mode)
	}
	joined := strings.Join(rep.Removed, "\n")
	for _, want := range []string{"usr/share/doc (1 file)", "usr/share/man (1 file)", "usr/share/locale (1 file)",
		"usr/bin/sh (shell)", "usr/bin/myshell (shell)", "usr/bin/dpkg* (2 files)", "opt/junk (1 file)",
		"setuid/setgid bits (2 files: usr/bin/su, usr/bin/wall)"} {
		if !strings.Contains(joined, want) {
			t.Errorf("Removed lacks %q:\n%s", want, joined)
		}
	}
	if len(rep.Relaxed) != 0 {
		t.Errorf("Relaxed = %q", rep.Relaxed)
	}

	// Every default relaxed.
	d = def()
	d.Shell = true
	d.Hardening = spec.Hardening{AllowRoot: true, AllowSetuid: true, AllowPackageManager: true}
	d.Image.User = "root"
	tree, rep = assemble(t, d, pkgs...)
	for _, p := range []string{"usr/bin/bash", "usr/bin/sh", "usr/bin/dpkg", "usr/bin/apt-get", "usr/lib/apt/methods/http"} {
		get(t, tree, p)
	}
	if e := get(t, tree, "usr/bin/su"); e.Mode != 0o755|fs.ModeSetuid {
		t.Errorf("su mode %v", e.Mode)
	}
	if want := []string{"shell", "package-manager", "setuid", "root"}; !slices.Equal(rep.Relaxed, want) {
		t.Errorf("Relaxed = %q, want %q", rep.Relaxed, want)
	}
}

func TestHardlinkToRemoved(t *testing.T) {
	tree, _ := assemble(t, nil, pk{name: "perl", files: []debtest.File{
		{Path: "./usr/share/doc/perl/perl", Data: []byte("perl"), Mode: 0o755},
		{Path: "./usr/bin/perl", Type: tar.TypeLink, Link: "./usr/share/doc/perl/perl"},
		{Path: "./usr/bin/perl5", Type: tar.TypeLink, Link: "./usr/share/doc/perl/perl"},
	}})
	if e := get(t, tree, "usr/bin/perl"); e.Kind != rootfs.File || string(e.Data) != "perl" || e.Mode != 0o755 {
		t.Errorf("perl = %+v", e)
	}
	if e := get(t, tree, "usr/bin/perl5"); e.Kind != rootfs.Hardlink || e.Target != "usr/bin/perl" {
		t.Errorf("perl5 = %+v", e)
	}
}

func TestWritable(t *testing.T) {
	d := def()
	d.Image.Writable = []string{"/var/cache/app", "/data"}
	d.Image.Workdir = "/srv/app"
	tree, _ := assemble(t, d)
	for _, p := range []string{"var/cache/app", "data"} {
		if e := get(t, tree, p); e.Kind != rootfs.Dir || e.UID != 65532 || e.GID != 65532 {
			t.Errorf("/%s = %+v", p, e)
		}
	}
	get(t, tree, "srv/app")
	d = def()
	d.Image.User = "0:0"
	if err := assembleErr(t, d); !strings.Contains(err.Error(), "root") {
		t.Error(err)
	}
}

func TestDefinitionFiles(t *testing.T) {
	d := def()
	d.Image.Files = []spec.File{
		{Path: "/etc/app/app.conf", Content: "listen 8080;\n"},
		{Path: "/etc/replaced.conf", Content: "mine\n", Mode: "0640", Owner: "33:33"},
		{Path: "/etc/sneaky", Content: "x", Mode: "4755"},
	}
	tree, _ := assemble(t, d, pk{name: "app", files: []debtest.File{file("./etc/replaced.conf", "the package's\n")}})
	if e := get(t, tree, "etc/app/app.conf"); string(e.Data) != "listen 8080;\n" || e.Mode != 0o644 || e.UID != 0 {
		t.Errorf("new file: %+v", e)
	}
	if e := get(t, tree, "etc/replaced.conf"); string(e.Data) != "mine\n" || e.Mode != 0o640 || e.UID != 33 || e.GID != 33 {
		t.Errorf("replaced file: %+v", e)
	}
	// Hardening still applies to the definition's files.
	if e := get(t, tree, "etc/sneaky"); e.Mode&fs.ModeSetuid != 0 {
		t.Errorf("setuid kept on a definition file: %v", e.Mode)
	}
}
