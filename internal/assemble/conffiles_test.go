package assemble

import (
	"slices"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

// phpCLIPostinst is shaped like php8.2-cli's: ucf under configure, the
// SAPI test, and helper calls temper does not run.
const phpCLIPostinst = `#!/bin/sh
set -e
CONFDIR=/etc/php/8.2/cli/conf.d
if [ "$1" = "configure" ]; then
    phpini="/etc/php/8.2/cli/php.ini"
    if [ "cli" = "cli" ]; then
	ucf /usr/lib/php/8.2/php.ini-production.cli $phpini
    else
	ucf /usr/lib/php/8.2/php.ini-production $phpini
    fi
    ucfr php8.2-cli $phpini
    if [ -e /usr/lib/php/php-maintscript-helper ]; then
	. /usr/lib/php/php-maintscript-helper
	mods=$(phpquery -M -v 8.2)
	for mod in $mods; do
	    php_invoke enmod 8.2 cli $mod
	done
    fi
fi
exit 0
`

// phpCommonPostinst is shaped like php8.2-common's: a loop over modules.
const phpCommonPostinst = `#!/bin/sh
set -e
if [ "$1" = "configure" ]; then
    inidir=/etc/php/8.2/mods-available
    for dsoname in ctype posix; do
	inifile=${dsoname}.ini
	ucf /usr/share/php8.2-common/common/${inifile} ${inidir}/${inifile}
	ucfr --force php8.2-common ${inidir}/${inifile}
    done
fi
`

func TestUCFEvaluator(t *testing.T) {
	for _, tc := range []struct{ script, want string }{
		{phpCLIPostinst, "/usr/lib/php/8.2/php.ini-production.cli /etc/php/8.2/cli/php.ini"},
		{phpCommonPostinst, "/usr/share/php8.2-common/common/ctype.ini /etc/php/8.2/mods-available/ctype.ini,/usr/share/php8.2-common/common/posix.ini /etc/php/8.2/mods-available/posix.ini"},
		// Only on configure.
		{`if [ "$1" = "remove" ]; then ucf /a /b; fi`, ""},
		// A generated source (postgresql-common's mktemp) is unknown.
		{"CCTMP=`mktemp`\nucf --debconf-ok $CCTMP /etc/postgresql-common/createcluster.conf", ""},
		{"ucf --debconf-ok --three-way /usr/share/x/x.conf /etc/x.conf", "/usr/share/x/x.conf /etc/x.conf"},
		{"ucf --purge /etc/logrotate.d/x", ""},
		{"ucf relative /etc/x.conf", ""},
	} {
		var out []string
		for _, in := range ucfFromScript(tc.script, shellEnv{args: []string{"configure", ""}}) {
			out = append(out, in.New+" "+in.Dest)
		}
		if got := strings.Join(out, ","); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.script, got, tc.want)
		}
	}
}

// TestConffiles: the conffiles postinsts install with ucf are in the image
// with the pristine file's content, a file a package ships is kept, and
// image.files has the last word.
func TestConffiles(t *testing.T) {
	prod := "; production\ndisplay_errors = Off\n"
	common := pk{name: "php8.2-common", files: []debtest.File{
		file("./usr/lib/php/php-maintscript-helper", "helper"),
		file("./usr/share/php8.2-common/common/ctype.ini", "extension=ctype.so\n"),
		file("./usr/share/php8.2-common/common/posix.ini", "extension=posix.so\n"),
		// Shipped by the package: ucf must not replace it.
		file("./etc/php/8.2/mods-available/posix.ini", "; local\n"),
	}, scripts: map[string]string{"postinst": phpCommonPostinst}}
	cli := pk{name: "php8.2-cli", files: []debtest.File{
		{Path: "./usr/bin/php8.2", Data: []byte("php"), Mode: 0o755},
		file("./usr/lib/php/8.2/php.ini-production.cli", prod),
	}, scripts: map[string]string{"postinst": phpCLIPostinst}}

	tree, rep := assemble(t, nil, common, cli)
	ini := get(t, tree, "etc/php/8.2/cli/php.ini")
	if ini.Kind != rootfs.File || string(ini.Data) != prod || ini.Mode.Perm() != 0o644 || ini.UID != 0 {
		t.Errorf("php.ini = %s %v uid %d %q", ini.Kind, ini.Mode, ini.UID, ini.Data)
	}
	if e := get(t, tree, "etc/php/8.2/mods-available/ctype.ini"); string(e.Data) != "extension=ctype.so\n" {
		t.Errorf("ctype.ini = %q", e.Data)
	}
	if e := get(t, tree, "etc/php/8.2/mods-available/posix.ini"); string(e.Data) != "; local\n" {
		t.Errorf("the shipped posix.ini was replaced: %q", e.Data)
	}
	for _, want := range []string{
		"etc/php/8.2/cli/php.ini from /usr/lib/php/8.2/php.ini-production.cli (php8.2-cli)",
		"etc/php/8.2/mods-available/ctype.ini from /usr/share/php8.2-common/common/ctype.ini (php8.2-common)",
	} {
		if !slices.Contains(rep.Conffiles, want) {
			t.Errorf("Conffiles lacks %q: %q", want, rep.Conffiles)
		}
	}
	if len(rep.Conffiles) != 2 {
		t.Errorf("Conffiles = %q, want 2", rep.Conffiles)
	}

	d := def()
	d.Image.Files = []spec.File{{Path: "/etc/php/8.2/cli/php.ini", Content: "memory_limit = 64M\n"}}
	tree, _ = assemble(t, d, common, cli)
	if e := get(t, tree, "etc/php/8.2/cli/php.ini"); string(e.Data) != "memory_limit = 64M\n" {
		t.Errorf("image.files did not replace php.ini: %q", e.Data)
	}
}
