package debtest_test

import (
	"archive/tar"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/temper-dev/temper/internal/debian/debtest"
)

var longName = "usr/share/doc/test/" + strings.Repeat("very-long-directory-name/", 5) + "file-with-a-name-longer-than-one-hundred-bytes.txt"

func sampleSpec(comp string) debtest.Spec {
	return debtest.Spec{
		Control: "Package: hello\nVersion: 2.10-3\nArchitecture: amd64\nMaintainer: Test <test@example.org>\nInstalled-Size: 1\nDescription: greets\n long description",
		Files: []debtest.File{
			{Path: "usr/bin/hello", Mode: 0755, Data: []byte("#!/bin/sh\necho hello\n")},
			{Path: "./usr/bin/hello-again", Type: tar.TypeLink, Link: "usr/bin/hello"},
			{Path: "usr/share/doc/hello/copyright", Data: []byte("public domain\n")},
			{Path: "usr/share/doc/hello", Type: tar.TypeDir, Mode: 0700},
			{Path: "usr/bin/hi", Type: tar.TypeSymlink, Link: "hello"},
			{Path: "etc/hello.conf", Data: []byte("greeting=hi\n"), UID: 1000, GID: 1000},
			{Path: "usr/bin/empty", Data: nil},
			{Path: longName, Data: []byte("long\n")},
			{Path: "var/lib/hello", Type: tar.TypeDir},
		},
		AutoDirs:    true,
		Scripts:     map[string]string{"postinst": "#!/bin/sh\nexit 0\n", "conffiles": "/etc/hello.conf\n"},
		Compression: comp,
	}
}

// The entry order Build must produce for sampleSpec.
var wantOrder = []string{
	"./", "./usr/", "./usr/bin/", "./usr/bin/hello", "./usr/bin/hello-again",
	"./usr/share/", "./usr/share/doc/", "./usr/share/doc/hello/", "./usr/share/doc/hello/copyright",
	"./usr/bin/hi", "./etc/", "./etc/hello.conf", "./usr/bin/empty",
	"./usr/share/doc/test/",
}

func expectedNames() []string {
	names := append([]string{}, wantOrder...)
	p := "./usr/share/doc/test/"
	for range 5 {
		p += "very-long-directory-name/"
		names = append(names, p)
	}
	return append(names, "./"+longName, "./var/", "./var/lib/", "./var/lib/hello/")
}

func TestBuildDeterministic(t *testing.T) {
	a := debtest.Build(t, sampleSpec("xz"))
	b := debtest.Build(t, sampleSpec("xz"))
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the same Spec differ")
	}
	if !bytes.HasPrefix(a, []byte("!<arch>\ndebian-binary   ")) {
		t.Fatalf("unexpected start %q", a[:32])
	}
}

// TestDpkgDeb proves that Build makes real .debs: dpkg-deb reads their
// control information, lists their contents in the order given and
// extracts the same files, modes, links and control members.
func TestDpkgDeb(t *testing.T) {
	dpkgDeb, err := exec.LookPath("dpkg-deb")
	if err != nil {
		t.Skip("dpkg-deb not installed")
	}
	for _, comp := range []string{"xz", "zst", "gz", "bz2", "lzma", "none"} {
		for _, ccomp := range []string{"", "gz", "zst", "none"} {
			if ccomp != "" && comp != "xz" {
				continue
			}
			t.Run(comp+"/"+ccomp, func(t *testing.T) {
				spec := sampleSpec(comp)
				spec.ControlCompression = ccomp
				debFile := filepath.Join(t.TempDir(), "hello_2.10-3_amd64.deb")
				if err := os.WriteFile(debFile, debtest.Build(t, spec), 0o644); err != nil {
					t.Fatal(err)
				}
				run := func(args ...string) string {
					t.Helper()
					cmd := exec.Command(dpkgDeb, args...)
					var stderr bytes.Buffer
					cmd.Stderr = &stderr
					out, err := cmd.Output()
					if err != nil {
						t.Fatalf("dpkg-deb %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
					}
					if stderr.Len() > 0 {
						t.Errorf("dpkg-deb %s warned: %s", strings.Join(args, " "), stderr.Bytes())
					}
					return string(out)
				}

				info := run("--info", debFile)
				for _, want := range []string{"new Debian package, version 2.0.", " Package: hello", " Version: 2.10-3", "  long description", " postinst ", " md5sums ", " conffiles "} {
					if !strings.Contains(info, want) {
						t.Errorf("dpkg-deb --info lacks %q:\n%s", want, info)
					}
				}
				if got := run("--field", debFile, "Package"); got != "hello\n" {
					t.Errorf("dpkg-deb --field Package = %q", got)
				}

				var names []string
				for _, line := range strings.Split(strings.TrimSuffix(run("--contents", debFile), "\n"), "\n") {
					f := strings.Fields(line)
					if len(f) < 6 {
						t.Fatalf("odd --contents line %q", line)
					}
					names = append(names, f[5])
					switch f[5] {
					case "./usr/bin/hi":
						if !strings.HasSuffix(line, " -> hello") || !strings.HasPrefix(line, "lrwxrwxrwx root/root") {
							t.Errorf("symlink listed as %q", line)
						}
					case "./usr/bin/hello-again":
						if !strings.HasSuffix(line, " link to ./usr/bin/hello") {
							t.Errorf("hard link listed as %q", line)
						}
					case "./etc/hello.conf":
						if !strings.HasPrefix(line, "-rw-r--r-- 1000/1000") {
							t.Errorf("owned file listed as %q", line)
						}
					case "./usr/share/doc/hello/":
						if !strings.HasPrefix(line, "drwx------ root/root") {
							t.Errorf("explicit dir listed as %q", line)
						}
					}
				}
				if want := expectedNames(); strings.Join(names, "\n") != strings.Join(want, "\n") {
					t.Errorf("dpkg-deb --contents order:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
				}

				root := t.TempDir()
				run("-x", debFile, root)
				for _, f := range spec.Files {
					p := filepath.Join(root, strings.TrimPrefix(f.Path, "./"))
					st, err := os.Lstat(p)
					if err != nil {
						t.Error(err)
						continue
					}
					switch f.Type {
					case 0, tar.TypeReg:
						got, err := os.ReadFile(p)
						if err != nil || !bytes.Equal(got, f.Data) {
							t.Errorf("%s: content %q, %v; want %q", f.Path, got, err, f.Data)
						}
						want := os.FileMode(f.Mode)
						if want == 0 {
							want = 0o644
						}
						if st.Mode() != want {
							t.Errorf("%s: mode %v, want %v", f.Path, st.Mode(), want)
						}
					case tar.TypeDir:
						if !st.IsDir() || (f.Mode != 0 && st.Mode().Perm() != os.FileMode(f.Mode)) {
							t.Errorf("%s: mode %v", f.Path, st.Mode())
						}
					case tar.TypeSymlink:
						if target, err := os.Readlink(p); err != nil || target != f.Link {
							t.Errorf("%s: symlink to %q, %v", f.Path, target, err)
						}
					case tar.TypeLink:
						st2, err := os.Stat(filepath.Join(root, f.Link))
						if err != nil || !os.SameFile(st, st2) {
							t.Errorf("%s: not a hard link to %s (%v)", f.Path, f.Link, err)
						}
					}
					if os.Geteuid() == 0 {
						if sys, ok := st.Sys().(*syscall.Stat_t); ok && (int(sys.Uid) != f.UID || int(sys.Gid) != f.GID) {
							t.Errorf("%s: owner %d:%d, want %d:%d", f.Path, sys.Uid, sys.Gid, f.UID, f.GID)
						}
					}
				}

				ctl := t.TempDir()
				run("-e", debFile, ctl)
				sums, err := os.ReadFile(filepath.Join(ctl, "md5sums"))
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{
					"  usr/bin/hello\n", "  usr/bin/empty\n", "d41d8cd98f00b204e9800998ecf8427e  usr/bin/empty\n",
					"  " + longName + "\n",
				} {
					if !strings.Contains(string(sums), want) {
						t.Errorf("md5sums lacks %q:\n%s", want, sums)
					}
				}
				if strings.Contains(string(sums), "hello-again") || strings.Contains(string(sums), "usr/bin/hi") {
					t.Errorf("md5sums lists links:\n%s", sums)
				}
				if st, err := os.Stat(filepath.Join(ctl, "postinst")); err != nil || st.Mode().Perm() != 0o755 {
					t.Errorf("postinst: %v %v", st, err)
				}
				// dpkg's own md5sum check over the extracted tree.
				if md5sum, err := exec.LookPath("md5sum"); err == nil {
					cmd := exec.Command(md5sum, "--check", "--quiet", filepath.Join(ctl, "md5sums"))
					cmd.Dir = root
					if out, err := cmd.CombinedOutput(); err != nil {
						t.Errorf("md5sum --check: %v\n%s", err, out)
					}
				}
			})
		}
	}
}

func TestNoAutoDirs(t *testing.T) {
	b := debtest.Build(t, debtest.Spec{
		Files:     []debtest.File{{Path: "/a/b", Data: []byte("x")}},
		NoMD5Sums: true,
	})
	if len(b) == 0 {
		t.Fatal("empty")
	}
	if dpkgDeb, err := exec.LookPath("dpkg-deb"); err == nil {
		f := filepath.Join(t.TempDir(), "x.deb")
		os.WriteFile(f, b, 0o644)
		out, err := exec.Command(dpkgDeb, "--contents", f).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) != 1 || !strings.HasSuffix(lines[0], " ./a/b") {
			t.Errorf("contents: %q", out)
		}
		info, _ := exec.Command(dpkgDeb, "--info", f).CombinedOutput()
		if strings.Contains(string(info), "md5sums") {
			t.Errorf("NoMD5Sums ignored: %s", info)
		}
	}
}
