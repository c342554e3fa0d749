package assemble

import (
	"archive/tar"
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/debian/deb"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/livetest"
	"github.com/temper-dev/temper/internal/rootfs"
)

// openjdkPostinst is shaped like openjdk-17-jre-headless's: variables,
// a loop over the tools, multi-line quoted slave arguments, command
// substitutions and branches that must not matter.
const openjdkPostinst = `#!/bin/sh

set -e

multiarch=x86_64-linux-gnu
priority=1711
basedir=/usr/lib/jvm/java-17-openjdk-amd64
mandir=$basedir/man
srcext=1.gz
dstext=1.gz
jre_tools='java jpackage keytool rmiregistry'

case "$1" in
configure)
    if [ ! -d /proc/self ]; then
	echo >&2 "the java command requires a mounted proc fs (/proc)."
	: exit 1
    fi

    if [ -z "$2" ]; then
	update_alternatives=y
    fi
    if [ -n "$multiarch" ] && [ -n "$2" ]; then
	for i in $jre_tools; do
	    if [ -z "$(update-alternatives --list $i 2>/dev/null | grep ^$basedir/)" ]; then
		update_alternatives=y
		break
	    fi
	done
    fi

    if [ "$update_alternatives" = y ]; then
    if [ -n "$multiarch" ] && [ "$DPKG_MAINTSCRIPT_ARCH" != $(dpkg --print-architecture) ]; then
	priority=$(expr $priority - 1)
    fi
    for i in $jre_tools; do
	unset slave1 slave2 || true
        if [ -e $mandir/man1/$i.$srcext ]; then
	    slave1="--slave \
		/usr/share/man/man1/$i.$dstext \
                $i.$dstext \
                $mandir/man1/$i.$srcext"
	fi
        update-alternatives \
	    --install \
	    /usr/bin/$i \
	    $i \
	    $basedir/bin/$i \
	    $priority \
	    $slave1 $slave2
    done
    fi # update alternatives
    for d in lib/security; do
      for f in a b; do
        update-alternatives --install /etc/${d##*/}/$f x $basedir/$d/$f 1
        update-alternatives --install "/usr/share/$d/$f" "$d-$f" "$basedir/$d/$f" 2
      done
    done
    cat > /dev/null <<EOF
update-alternatives --install /usr/bin/bogus bogus /usr/bin/java 99999
EOF
    ;;
abort-upgrade)
    update-alternatives --install /usr/bin/java java /bogus 99999
    ;;
esac

exit 0
update-alternatives --install /usr/bin/after after /usr/bin/java 1
`

const phpPostinst = `#!/bin/sh
set -e
if [ "$1" = "configure" ]; then
    update-alternatives \
	--install /usr/bin/php php /usr/bin/php8.2 82 \
	--slave /usr/share/man/man1/php.1.gz php.1.gz /usr/share/man/man1/php8.2.1.gz
fi
`

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

func TestShellEvaluator(t *testing.T) {
	exists := func(op, p string) bool { return strings.HasPrefix(p, "/usr/lib/jvm/") }
	got := alternativesFromScript(openjdkPostinst, shellEnv{test: exists, args: []string{"configure", ""}})
	var lines []string
	for _, in := range got {
		s := in.String()
		for _, sl := range in.Slaves {
			s += " | " + sl.Link + " " + sl.Name + " " + sl.Path
		}
		lines = append(lines, s)
	}
	want := []string{
		"/usr/bin/java java /usr/lib/jvm/java-17-openjdk-amd64/bin/java 1711 | /usr/share/man/man1/java.1.gz java.1.gz /usr/lib/jvm/java-17-openjdk-amd64/man/man1/java.1.gz",
		"/usr/bin/jpackage jpackage /usr/lib/jvm/java-17-openjdk-amd64/bin/jpackage 1711 | /usr/share/man/man1/jpackage.1.gz jpackage.1.gz /usr/lib/jvm/java-17-openjdk-amd64/man/man1/jpackage.1.gz",
		"/usr/bin/keytool keytool /usr/lib/jvm/java-17-openjdk-amd64/bin/keytool 1711 | /usr/share/man/man1/keytool.1.gz keytool.1.gz /usr/lib/jvm/java-17-openjdk-amd64/man/man1/keytool.1.gz",
		"/usr/bin/rmiregistry rmiregistry /usr/lib/jvm/java-17-openjdk-amd64/bin/rmiregistry 1711 | /usr/share/man/man1/rmiregistry.1.gz rmiregistry.1.gz /usr/lib/jvm/java-17-openjdk-amd64/man/man1/rmiregistry.1.gz",
		"/usr/share/lib/security/a lib/security-a /usr/lib/jvm/java-17-openjdk-amd64/lib/security/a 2",
		"/usr/share/lib/security/b lib/security-b /usr/lib/jvm/java-17-openjdk-amd64/lib/security/b 2",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// When the man pages are gone, [ -e ] is false and no slave is passed.
	got = alternativesFromScript(openjdkPostinst, shellEnv{test: func(op, p string) bool { return !strings.Contains(p, "/man/") },
		args: []string{"configure", ""}})
	if len(got) == 0 || len(got[0].Slaves) != 0 {
		t.Errorf("without man pages: %+v", got)
	}

	for _, tc := range []struct{ script, want string }{
		{"a=1; b=\"$a 2\"; for x in $b; do for y in p q; do update-alternatives --install /l/$x$y n$x$y /t/$y $x; done; done",
			"/l/1p n1p /t/p 1,/l/1q n1q /t/q 1,/l/2p n2p /t/p 2,/l/2q n2q /t/q 2"},
		{"f() { update-alternatives --install \"$1\" n /t 5; }\nf /usr/bin/x", "/usr/bin/x n /t 5"},
		{"if false; then update-alternatives --install /a a /a 1; elif true; then update-alternatives --install /b b /b 2; fi", "/b b /b 2"},
		{"update-alternatives --install /a a $(pwd)/a 1", ""},
		{"update-alternatives --remove a /a; update-alternatives --quiet --install /a a /a 1", "/a a /a 1"},
		{"x=${UNSET:-/d}; update-alternatives --install /a a ${x}/a 1", "/a a /d/a 1"},
		{"while true; do update-alternatives --install /a a /a 1; done", ""},
		{"p=10\np=`expr $p + 1`\nupdate-alternatives --install /a a /a $p # comment", "/a a /a 10"},
	} {
		var out []string
		for _, in := range alternativesFromScript(tc.script, shellEnv{args: []string{"configure", ""}}) {
			out = append(out, in.String())
		}
		if got := strings.Join(out, ","); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.script, got, tc.want)
		}
	}
}

func TestAlternatives(t *testing.T) {
	tree, rep := assemble(t, nil,
		pk{name: "openjdk-17-jre-headless", files: jdkFiles(), scripts: map[string]string{"postinst": openjdkPostinst}},
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
		got := alternativesFromScript(string(ctrl["postinst"]), shellEnv{test: b.shellTest, args: []string{"configure", ""},
			vars: map[string]string{"DPKG_MAINTSCRIPT_ARCH": "amd64"}})
		found := false
		for _, in := range got {
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
