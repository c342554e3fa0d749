package maintscript_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/debian/maintscript"
)

// configure is the environment of a postinst on a fresh install, with
// no image: every file test is true.
var configure = maintscript.Env{Args: []string{"configure", ""}}

// render writes calls one a line, alternatives (with their slaves after
// " | ") before ucf calls, each kind in script order.
func render(c maintscript.Calls) string {
	var lines []string
	for _, a := range c.Alternatives {
		s := "alt " + a.String()
		for _, sl := range a.Slaves {
			s += " | " + sl.Link + " " + sl.Name + " " + sl.Path
		}
		lines = append(lines, s)
	}
	for _, u := range c.UCF {
		lines = append(lines, "ucf "+u.New+" "+u.Dest)
	}
	return strings.Join(lines, "\n")
}

// image answers file tests from a few paths: a directory, a regular
// file, an executable and a symlink.
func image(op, p string) bool {
	kinds := map[string]string{"/etc": "d", "/etc/x.conf": "f", "/usr/bin/x": "fx", "/usr/bin/link": "L"}
	k, ok := kinds[p]
	switch {
	case !ok:
		return false
	case op == "-e":
		return true
	case op == "-h":
		op = "-L"
	}
	return strings.Contains(k, op[1:])
}

func TestEvaluate(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		env          maintscript.Env
		want         string
	}{{
		name: "update-alternatives with slaves and options",
		script: "update-alternatives --quiet --altdir /a --install /usr/bin/ed ed /bin/ed 10 \\\n" +
			"  --slave /usr/share/man/man1/ed.1.gz ed.1.gz /usr/share/man/man1/ed.1.gz --slave /usr/bin/red red /bin/red",
		want: "alt /usr/bin/ed ed /bin/ed 10 | /usr/share/man/man1/ed.1.gz ed.1.gz /usr/share/man/man1/ed.1.gz | /usr/bin/red red /bin/red",
	}, {
		name:   "other update-alternatives actions are not installs",
		script: "update-alternatives --set ed /bin/ed\nupdate-alternatives --remove ed /bin/ed\nupdate-alternatives --install /a a /a x",
	}, {
		name:   "ucf",
		script: "ucf --debconf-ok /usr/share/x/x.conf /etc/x.conf\nucf --purge /etc/y.conf\nucf --src-dir /s a.conf /etc/a.conf\nucf /usr/share/b.conf",
		want:   "ucf /usr/share/x/x.conf /etc/x.conf",
	}, {
		name:   "calls in script order",
		script: "ucf /n1 /d1; update-alternatives --install /l1 n1 /p1 1; ucf /n2 /d2; update-alternatives --install /l2 n2 /p2 2",
		want:   "alt /l1 n1 /p1 1\nalt /l2 n2 /p2 2\nucf /n1 /d1\nucf /n2 /d2",
	}, {
		name: "if/elif/else with file tests",
		script: `for p in /etc /etc/x.conf /usr/bin/x /usr/bin/link /nowhere; do
  if [ -d "$p" ]; then ucf /d "$p"
  elif [ -L $p ] || [ -h $p ]; then ucf /L "$p"
  elif test -x $p; then ucf /x "$p"
  elif [ -f $p ] && [ ! -d $p ]; then ucf /f "$p"
  elif ! [ -e $p ]; then ucf /none "$p"
  else ucf /else "$p"
  fi
done`,
		env:  maintscript.Env{Test: image},
		want: "ucf /d /etc\nucf /f /etc/x.conf\nucf /x /usr/bin/x\nucf /L /usr/bin/link\nucf /none /nowhere",
	}, {
		name:   "without Env.Test every file test is true",
		script: "[ -e /nowhere ] && ucf /a /b; [ ! -f /nowhere ] && ucf /c /d",
		want:   "ucf /a /b",
	}, {
		name: "string and integer tests",
		script: `[ -z "" ] && ucf /1 /z; [ -n "" ] && ucf /2 /n; [ a = a ] && ucf /3 /eq; [ a != a ] && ucf /4 /ne
[ 3 -gt 2 ] && ucf /5 /gt; [ 3 -le 2 ] && ucf /6 /le; [ x -lt 2 ] && ucf /7 /unknown; [ ] || ucf /8 /empty`,
		want: "ucf /1 /z\nucf /3 /eq\nucf /5 /gt\nucf /7 /unknown\nucf /8 /empty",
	}, {
		name: "case on the script's argument",
		script: `case "$1" in
  abort-*|remove) ucf /no /1 ;;
  conf*) ucf /yes /1 ;;
  configure) ucf /no /2 ;;
esac
case $(uname) in *) ucf /no /3 ;; esac`,
		env:  configure,
		want: "ucf /yes /1",
	}, {
		name:   "for loops, break and continue",
		script: "for x in a b c d; do [ $x = b ] && continue; [ $x = d ] && break; for y in 1 2; do [ $y = 2 ] && continue 2; ucf /$x$y /$x; done; done",
		want:   "ucf /a1 /a\nucf /c1 /c",
	}, {
		name:   "functions get their own arguments; return ends only the function",
		script: "inst() { ucf \"/usr/share/$1\" \"/etc/$1\"; return 0; ucf /never /x; }\ninst a.conf\ninst \"$#-$1\"",
		env:    configure,
		want:   "ucf /usr/share/a.conf /etc/a.conf\nucf /usr/share/2-configure /etc/2-configure",
	}, {
		name: "variables and quoting",
		script: `dir=/usr/lib; two="a b"; empty=
export EXP=/exp; local LOC=/loc; unset dir2
ucf $dir/'$dir' "$dir/\"q\""
for w in $two "$two" $empty "$empty" ${UNSET-/def} ${empty:-/cdef} ${empty-/nodef}; do ucf /w "/[$w]"; done
ucf $EXP $LOC; ucf ${DPKG_MAINTSCRIPT_PACKAGE:?x} /x; ucf /$0 /$DPKG_MAINTSCRIPT_PACKAGE`,
		env: maintscript.Env{Vars: map[string]string{"DPKG_MAINTSCRIPT_PACKAGE": "pkg"}},
		want: "ucf /usr/lib/$dir /usr/lib/\"q\"\n" +
			"ucf /w /[a]\nucf /w /[b]\nucf /w /[a b]\nucf /w /[]\nucf /w /[/def]\nucf /w /[/cdef]\n" +
			"ucf /exp /loc\nucf /postinst /pkg",
	}, {
		name:   "unknown values are skipped, not guessed",
		script: "d=/etc\nd=$(mktemp -d)\nucf /a $d/a\nucf /b `pwd`/b\nucf /c $((1+2))\nt=`mktemp`\nucf $t /etc/t\nucf /e \"$(echo /etc)\"",
		want:   "ucf /a /etc/a",
	}, {
		name:   "unknown commands succeed",
		script: "set -e\ndpkg-maintscript-helper rm_conffile /etc/old -- \"$@\" && ucf /a /b\nfalse || ucf /c /d\nfalse && ucf /no /e\n! true || ucf /f /g",
		want:   "ucf /a /b\nucf /c /d\nucf /f /g",
	}, {
		name:   "heredocs are data",
		script: "cat <<EOF >/dev/null\nucf /no /1\nEOF\ncat <<-'END'\n\tucf /no /2\n\tEND\nucf /yes /3",
		want:   "ucf /yes /3",
	}, {
		name:   "while and until are not evaluated",
		script: "while read l; do ucf /no /1; done < /etc/x\nuntil false; do ucf /no /2; done\nucf /yes /3",
		want:   "ucf /yes /3",
	}, {
		name:   "exit ends the script",
		script: "ucf /a /b\nexit 0\nucf /no /c",
		want:   "ucf /a /b",
	}, {
		name:   "groups, subshells, pipes, comments and redirections",
		script: "{ ucf /a /b; } 2>/dev/null\n(ucf /c /d) # ucf /no /e\necho x | ucf /f /g >&2\nucf /h /i 2>&1 </dev/null",
		want:   "ucf /a /b\nucf /c /d\nucf /f /g\nucf /h /i",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(maintscript.Evaluate(tc.script, tc.env)); got != tc.want {
				t.Errorf("%s\n got:\n%s\nwant:\n%s", tc.script, got, tc.want)
			}
		})
	}
}

// Runaway recursion is cut at a fixed depth, where a call counts as
// succeeding, and the script goes on.
func TestEvaluateDepth(t *testing.T) {
	got := maintscript.Evaluate("ucf /a /b\nf() { f; }\nf\nucf /c /d", configure)
	if want := "ucf /a /b\nucf /c /d"; render(got) != want {
		t.Errorf("got %q, want %q", render(got), want)
	}
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testdata/openjdk-17-jre-headless.postinst is shaped like the real
// one: variables, a loop over the tools, multi-line quoted slave
// arguments, command substitutions, a heredoc, and branches that must
// not matter.
func TestOpenJDKAlternatives(t *testing.T) {
	script := fixture(t, "openjdk-17-jre-headless.postinst")
	exists := func(op, p string) bool { return strings.HasPrefix(p, "/usr/lib/jvm/") }
	got := maintscript.Evaluate(script, maintscript.Env{Test: exists, Args: []string{"configure", ""}})
	want := []string{
		"alt /usr/bin/java java /usr/lib/jvm/java-17-openjdk-amd64/bin/java 1711 | /usr/share/man/man1/java.1.gz java.1.gz /usr/lib/jvm/java-17-openjdk-amd64/man/man1/java.1.gz",
		"alt /usr/bin/jpackage jpackage /usr/lib/jvm/java-17-openjdk-amd64/bin/jpackage 1711 | /usr/share/man/man1/jpackage.1.gz jpackage.1.gz /usr/lib/jvm/java-17-openjdk-amd64/man/man1/jpackage.1.gz",
		"alt /usr/bin/keytool keytool /usr/lib/jvm/java-17-openjdk-amd64/bin/keytool 1711 | /usr/share/man/man1/keytool.1.gz keytool.1.gz /usr/lib/jvm/java-17-openjdk-amd64/man/man1/keytool.1.gz",
		"alt /usr/bin/rmiregistry rmiregistry /usr/lib/jvm/java-17-openjdk-amd64/bin/rmiregistry 1711 | /usr/share/man/man1/rmiregistry.1.gz rmiregistry.1.gz /usr/lib/jvm/java-17-openjdk-amd64/man/man1/rmiregistry.1.gz",
		"alt /usr/share/lib/security/a lib/security-a /usr/lib/jvm/java-17-openjdk-amd64/lib/security/a 2",
		"alt /usr/share/lib/security/b lib/security-b /usr/lib/jvm/java-17-openjdk-amd64/lib/security/b 2",
	}
	if lines := strings.Split(render(got), "\n"); !slices.Equal(lines, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// When the man pages are gone, [ -e ] is false and no slave is passed.
	got = maintscript.Evaluate(script, maintscript.Env{Test: func(op, p string) bool { return !strings.Contains(p, "/man/") },
		Args: []string{"configure", ""}})
	if len(got.Alternatives) == 0 || len(got.Alternatives[0].Slaves) != 0 {
		t.Errorf("without man pages: %+v", got)
	}
}

func TestAlternativeCalls(t *testing.T) {
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
		for _, in := range maintscript.Evaluate(tc.script, configure).Alternatives {
			out = append(out, in.String())
		}
		if got := strings.Join(out, ","); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.script, got, tc.want)
		}
	}
}

// testdata/php8.2-cli.postinst is shaped like the real one (ucf under
// configure, the SAPI test, helper calls temper does not run), and
// php8.2-common.postinst calls ucf in a loop over modules.
func TestUCFCalls(t *testing.T) {
	for _, tc := range []struct{ script, want string }{
		{fixture(t, "php8.2-cli.postinst"), "/usr/lib/php/8.2/php.ini-production.cli /etc/php/8.2/cli/php.ini"},
		{fixture(t, "php8.2-common.postinst"), "/usr/share/php8.2-common/common/ctype.ini /etc/php/8.2/mods-available/ctype.ini,/usr/share/php8.2-common/common/posix.ini /etc/php/8.2/mods-available/posix.ini"},
		// Only on configure.
		{`if [ "$1" = "remove" ]; then ucf /a /b; fi`, ""},
		// A generated source (postgresql-common's mktemp) is unknown.
		{"CCTMP=`mktemp`\nucf --debconf-ok $CCTMP /etc/postgresql-common/createcluster.conf", ""},
		{"ucf --debconf-ok --three-way /usr/share/x/x.conf /etc/x.conf", "/usr/share/x/x.conf /etc/x.conf"},
		{"ucf --purge /etc/logrotate.d/x", ""},
		{"ucf relative /etc/x.conf", ""},
	} {
		var out []string
		for _, in := range maintscript.Evaluate(tc.script, configure).UCF {
			out = append(out, in.New+" "+in.Dest)
		}
		if got := strings.Join(out, ","); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.script, got, tc.want)
		}
	}
}
