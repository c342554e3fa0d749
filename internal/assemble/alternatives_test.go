package assemble

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/debian/deb"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/livetest"
	"github.com/temper-dev/temper/internal/debian/maintscript"
	"github.com/temper-dev/temper/internal/rootfs"
)

const phpPostinst = `#!/bin/sh
set -e
if [ "$1" = "configure" ]; then
    update-alternatives \
	--install /usr/bin/php php /usr/bin/php8.2 82 \
	--slave /usr/share/man/man1/php.1.gz php.1.gz /usr/share/man/man1/php8.2.1.gz
fi
`

// postinst returns a postinst shaped like the named package's, from the
// evaluator's test data (see its tests for what each exercises).
func postinst(t *testing.T, pkg string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "debian", "maintscript", "testdata", pkg+".postinst"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jdkFiles() []debtest.File {
	var fs []debtest.File
	for _, tool := range []string{"java", "jpackage", "keytool", "rmiregistry"} {
		fs = append(fs, debtest.File{Path: "./usr/lib/jvm/java-17-openjdk-amd64/bin/" + tool, Data: []byte(tool), Mode: 0o755})
		fs = append(fs, file("./usr/lib/jvm/java-17-openjdk-amd64/man/man1/"+tool+".1.gz", "man"))
	}
	for _, f := range []string{"a", "b"} {
		fs = append(fs, file("./usr/lib/jvm/java-17-openjdk-amd64/lib/security/"+f, f))
	}
	return fs
}

func TestAlternatives(t *testing.T) {
	tree, rep := assemble(t, nil,
		pk{name: "openjdk-17-jre-headless", files: jdkFiles(), scripts: map[string]string{"postinst": postinst(t, "openjdk-17-jre-headless")}},
		pk{name: "php8.2-cli", files: []debtest.File{
			{Path: "./usr/bin/php8.2", Data: []byte("php"), Mode: 0o755},
			file("./usr/share/man/man1/php8.2.1.gz", "man"),
		}, scripts: map[string]string{"postinst": phpPostinst}},
		// A priority contest for "editor"; the losing package sorts later.
		pk{name: "nano", files: []debtest.File{file("./bin/nano", "n")}, scripts: map[string]string{
			"postinst": "update-alternatives --install /usr/bin/editor editor /bin/nano 40 --slave /usr/bin/pico pico /bin/nano"}},
		pk{name: "vim-tiny", files: []debtest.File{file("./usr/bin/vim.tiny", "v")}, scripts: map[string]string{
			"postinst": "update-alternatives --install /usr/bin/editor editor /usr/bin/vim.tiny 15\nupdate-alternatives --install /usr/bin/ghost ghost /usr/bin/not-there 100"}},
	)
	links := map[string]string{
		"usr/bin/java":             "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
		"usr/bin/keytool":          "/usr/lib/jvm/java-17-openjdk-amd64/bin/keytool",
		"usr/bin/php":              "/usr/bin/php8.2",
		"usr/bin/editor":           "/bin/nano",
		"usr/bin/pico":             "/bin/nano",
		"usr/share/lib/security/a": "/usr/lib/jvm/java-17-openjdk-amd64/lib/security/a",
	}
	for l, target := range links {
		if e := get(t, tree, l); e.Kind != rootfs.Symlink || e.Target != target {
			t.Errorf("/%s = %s -> %q, want -> %s", l, e.Kind, e.Target, target)
		}
	}
	absent(t, tree, "usr/share/man") // slaves to removed man pages are skipped
	absent(t, tree, "usr/bin/ghost")
	absent(t, tree, "etc/alternatives")
	for _, want := range []string{
		"usr/bin/java -> /usr/lib/jvm/java-17-openjdk-amd64/bin/java (priority 1711, openjdk-17-jre-headless)",
		"usr/bin/php -> /usr/bin/php8.2 (priority 82, php8.2-cli)",
		"usr/bin/editor -> /bin/nano (priority 40, nano)",
		"usr/bin/pico -> /bin/nano (slave of editor)",
	} {
		if !slices.Contains(rep.Alternatives, want) {
			t.Errorf("Alternatives lacks %q:\n%s", want, strings.Join(rep.Alternatives, "\n"))
		}
	}
	if r, _ := tree.Resolve("usr/bin/java", true); r != "usr/lib/jvm/java-17-openjdk-amd64/bin/java" {
		t.Errorf("java resolves to %q", r)
	}
}

// TestLiveAlternatives derives the alternatives of the real postinst
// scripts of openjdk-17-jre-headless and php8.2-cli from bookworm.
func TestLiveAlternatives(t *testing.T) {
	ctx := context.Background()
	rel, err := livetest.Client(t, t.TempDir(), false).LoadRelease(ctx, "bookworm", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	hc := fetch.New("test")
	for _, tc := range []struct{ pkg, link, name string }{
		{"openjdk-17-jre-headless", "/usr/bin/java", "java"},
		{"php8.2-cli", "/usr/bin/php", "php"},
	} {
		c := rel.Candidate(tc.pkg)
		if c == nil {
			t.Fatalf("%s is not in bookworm", tc.pkg)
		}
		data, err := hc.GetBytes(ctx, c.URL(), 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		d, err := deb.Open(tc.pkg+".deb", data)
		if err != nil {
			t.Fatal(err)
		}
		ctrl, err := d.Control()
		if err != nil {
			t.Fatal(err)
		}
		// The image holds what the package ships, the man pages removed.
		tree := rootfs.New()
		err = d.Walk(func(hdr *tar.Header, _ io.Reader) error {
			p, err := rootfs.Clean(hdr.Name)
			if err != nil || p == "" || strings.HasPrefix(p, "usr/share/man/") {
				return err
			}
			k := rootfs.File
			if hdr.Typeflag == tar.TypeDir {
				k = rootfs.Dir
			}
			return tree.Put(&rootfs.Entry{Path: p, Kind: k, Mode: 0o755})
		})
		if err != nil {
			t.Fatal(err)
		}
		b := &builder{fs: tree}
		got := maintscript.Evaluate(string(ctrl["postinst"]), maintscript.Env{Test: b.fileTest, Args: []string{"configure", ""},
			Vars: map[string]string{"DPKG_MAINTSCRIPT_ARCH": "amd64"}})
		found := false
		for _, in := range got.Alternatives {
			t.Logf("%s: %s (%d slaves)", tc.pkg, in, len(in.Slaves))
			if in.Link == tc.link && in.Name == tc.name {
				found = true
				if _, ok := b.exists(in.Path); !ok {
					t.Errorf("%s: %s -> %s, which the package does not ship", tc.pkg, in.Link, in.Path)
				}
			}
		}
		if !found {
			t.Errorf("%s: no alternative for %s in\n%s", tc.pkg, tc.link, ctrl["postinst"])
		}
	}
}
